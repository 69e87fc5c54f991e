// The stdout formats dashboard.ts offers (--format), apart from the renderers in output.ts so
// that the command's declaration, and with it --help, loads no renderer. Names only.
export const FORMATS = ["text", "md", "json", "html"] as const;
export type Format = (typeof FORMATS)[number];
