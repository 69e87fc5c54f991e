// Spelling correction for the kitchen knowledge base's search box: each word of a query is
// replaced by the closest word of the articles' vocabulary (words.txt) within MAX_EDITS edits.
//   correctQuery("homemade chiken stok") -> "homemade chicken stock"
// Correct but slow: every word is compared with every dictionary word through a full
// edit-distance table. The switches below make it faster without changing any answer;
// MAX_EDITS and MIN_WORD_LENGTH change answers. No phonetics, no word frequencies.
import { readFileSync } from "node:fs";

export const MAX_EDITS = 2; // a word further than this from every dictionary word is left as typed
export const MIN_WORD_LENGTH = 3; // shorter words ("a", "to") are never corrected
export const SKIP_KNOWN_WORDS = 0; // 1: a word already in the dictionary is returned without searching
export const LENGTH_FILTER = 0; // 1: skip dictionary words whose length alone puts them beyond the best distance so far
export const EARLY_EXIT = 0; // 1: stop comparing once a whole row of the table exceeds the best distance so far
export const TWO_ROW_TABLE = 0; // 1: keep two rows of the edit-distance table instead of allocating all of it

const DICTIONARY: string[] = readFileSync(new URL("./words.txt", import.meta.url), "utf8").split("\n").filter(Boolean);
const KNOWN_WORDS = new Set(DICTIONARY);

/** The query with each word corrected, lower-cased and single-spaced. */
export function correctQuery(query: string): string {
  return query.toLowerCase().split(/[^a-z]+/).filter(Boolean).map(correctWord).join(" ");
}

/** The closest dictionary word within MAX_EDITS edits (the first in alphabetical order on a tie), else the word. */
export function correctWord(word: string): string {
  if (word.length < MIN_WORD_LENGTH) return word;
  if (SKIP_KNOWN_WORDS > 0 && KNOWN_WORDS.has(word)) return word;
  let best = word;
  let bestDistance = MAX_EDITS + 1;
  for (const candidate of DICTIONARY) {
    // Only a strictly smaller distance replaces the best, so anything at bestDistance or more can be skipped.
    if (LENGTH_FILTER > 0 && Math.abs(candidate.length - word.length) >= bestDistance) continue;
    const distance = editDistance(word, candidate, bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      if (distance === 0) break;
    }
  }
  return best;
}

/** Levenshtein distance; with EARLY_EXIT, any value >= `bound` once the answer is known to reach it. */
export function editDistance(a: string, b: string, bound: number): number {
  return TWO_ROW_TABLE > 0 ? twoRowDistance(a, b, bound) : fullTableDistance(a, b, bound);
}

function fullTableDistance(a: string, b: string, bound: number): number {
  const table: number[][] = [];
  for (let i = 0; i <= a.length; i++) table.push(new Array(b.length + 1).fill(0));
  for (let j = 0; j <= b.length; j++) table[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    table[i][0] = i;
    let rowMinimum = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = table[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      table[i][j] = Math.min(table[i - 1][j] + 1, table[i][j - 1] + 1, substitution);
      rowMinimum = Math.min(rowMinimum, table[i][j]);
    }
    if (EARLY_EXIT > 0 && rowMinimum >= bound) return bound; // later rows never go below this row's minimum
  }
  return table[a.length][b.length];
}

function twoRowDistance(a: string, b: string, bound: number): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMinimum = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
      if (current[j] < rowMinimum) rowMinimum = current[j];
    }
    if (EARLY_EXIT > 0 && rowMinimum >= bound) return bound;
    [previous, current] = [current, previous];
  }
  return previous[b.length];
}
