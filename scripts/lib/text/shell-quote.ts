// Quoting a word for a bash command line shown to a person or run by a shell:
// shellQuote("src/ranker.py") -> "src/ranker.py", shellQuote("my file") -> "'my file'".
// It does not split or parse command lines.

/** Quote a path for bash only when it needs it. */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
