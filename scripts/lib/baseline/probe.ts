// The sensitivity probe's breakage: a language-aware broken copy of the constrained
// file. Pure. Saving a backup first, running the eval and restoring the file are the
// caller's job (file-backup.ts makes that kill-safe).

const PROBE_MARK = "autoresearch sensitivity probe";

export type BrokenSource = { text: string; method: string };

/**
 * A broken copy of the constrained file. With a known entry function the function
 * is replaced by one that returns garbage (the eval still imports the module, so a
 * stale cache shows up as an unchanged score); otherwise the module fails to load.
 */
/**
 * A CommonJS module exported the entry before the probe's reassignment ran
 * (`module.exports = { classify }`): point the export at the broken function too.
 */
function commonJsReexport(source: string, entryName: string): string {
  if (!/\b(?:module\.exports|exports\.[A-Za-z_$])/.test(source)) return "";
  return `// @ts-ignore\nif (typeof module !== "undefined" && module.exports && typeof module.exports === "object" && "${entryName}" in module.exports) module.exports.${entryName} = ${entryName};\n`;
}

export function breakSource(source: string, language: string, entryName: string | null): BrokenSource {
  const ending = source.endsWith("\n") ? "" : "\n";
  if (language === "python") {
    if (entryName && new RegExp(`^(async\\s+)?def\\s+${entryName}\\s*\\(`, "m").test(source)) {
      return {
        text:
          `${source}${ending}\n# ${PROBE_MARK}: the entry function returns garbage\ndef ${entryName}(*args, **kwargs):\n    return None\n`,
        method: `replaced ${entryName}() with one that returns None`,
      };
    }
    return {
      text: `${source}${ending}\nraise RuntimeError("${PROBE_MARK}")\n`,
      method: "made the module raise on import",
    };
  }
  if (language === "typescript" || language === "javascript") {
    if (
      entryName &&
      new RegExp(`^\\s*(export\\s+)?(async\\s+)?function\\s*\\*?\\s*${entryName}\\s*[(<]`, "m").test(source)
    ) {
      return {
        text:
          `${source}${ending}\n// ${PROBE_MARK}: the entry function returns garbage\n// @ts-ignore\n${entryName} = function () { return undefined; };\n${
            commonJsReexport(source, entryName)
          }`,
        method: `replaced ${entryName}() with one that returns undefined`,
      };
    }
    return { text: `${source}${ending}\nthrow new Error("${PROBE_MARK}");\n`, method: "made the module throw on load" };
  }
  return {
    text: `${PROBE_MARK}: this file is deliberately broken for one eval run\n`,
    method: "replaced the file's content with garbage",
  };
}
