// Splitting text on a separator at the top level of its brackets and quotes: a parameter list
// ("a: Map<K, V>, b = () => 1") or a union type. Pure; used by the lever extractors, the test
// data scaffold and init's plan alike, so none of them loads the others to split a string.
/**
 * Split on the top-level `separator` (a comma by default), outside brackets and quotes:
 * "a: Map<K, V>, b = () => 1" -> ["a: Map<K, V>", "b = () => 1"]; with "|",
 * `string[] | Map<K, A | B>` -> ["string[]", "Map<K, A | B>"]. Empty parts are dropped.
 */
export function splitTopLevel(text: string, separator = ","): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let quote: string | null = null;
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (quote !== null) {
      if (character === "\\") index++;
      else if (character === quote) quote = null;
    } else if (character === '"' || character === "'" || character === "`") quote = character;
    else if ("([{<".includes(character)) depth++;
    else if (")]}>".includes(character) && !(character === ">" && text[index - 1] === "=")) depth--; // `=>` closes nothing
    else if (character === separator && depth === 0) {
      parts.push(text.slice(start, index).trim());
      start = index + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((part) => part !== "");
}
