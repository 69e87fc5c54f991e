// The stdout formats dashboard.ts offers (--format), apart from the renderers in output.ts so
// that the command's declaration, and with it --help, loads no renderer. Names only.
export const FORMATS = ["text", "md", "json", "html", "tsv", "csv"] as const;
export type Format = (typeof FORMATS)[number];
/** The flat tables of exports.ts: every line of the round, one row each. */
export const EXPORT_FORMATS: readonly Format[] = ["tsv", "csv"];
