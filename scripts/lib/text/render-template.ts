// A tiny `{{name}}` renderer for the files in templates/: substitution only, no logic
// (optional sections are rendered by the caller as text or ""). A placeholder without
// a value is an error, so a typo in a template fails loudly instead of shipping "{{x}}".
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KIT_ROOT } from "../cli/kit.ts";

export const TEMPLATES_DIR = join(KIT_ROOT, "templates");

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w]*)\s*\}\}/g;

/**
 * Replace every `{{name}}`. With `collapseBlankLines` (for Markdown), runs of blank lines
 * left by empty sections become one; code templates keep their own spacing.
 */
export function renderTemplate(
  template: string,
  values: Record<string, string>,
  options: { label?: string; collapseBlankLines?: boolean } = {},
): string {
  const label = options.label ?? "template";
  const missing = new Set<string>();
  const rendered = template.replace(PLACEHOLDER, (_whole, name: string) => {
    if (!(name in values)) {
      missing.add(name);
      return "";
    }
    return values[name];
  });
  if (missing.size > 0) {
    throw new Error(
      `The ${label} uses ${[...missing].map((name) => `"{{${name}}}"`).join(", ")} but no value was given`,
    );
  }
  return options.collapseBlankLines ? rendered.replace(/\n{3,}/g, "\n\n") : rendered;
}

/** The text of templates/<name>. */
export function readTemplate(name: string): string {
  return readFileSync(join(TEMPLATES_DIR, name), "utf8");
}
