// The kit's two spellings of "now": the journal's, to the second like the seed's hand-written
// lines ("2025-03-15T02:00:00Z"), and one safe in a file name ("2025-03-15T02-00-00-123Z"),
// for backups that must not collide. Records that only the harness reads keep full ISO time.

/** journalTimestamp(new Date("2025-03-15T02:00:00.123Z")) -> "2025-03-15T02:00:00Z" */
export function journalTimestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** fileNameTimestamp(new Date("2025-03-15T02:00:00.123Z")) -> "2025-03-15T02-00-00-123Z" */
export function fileNameTimestamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, "-");
}
