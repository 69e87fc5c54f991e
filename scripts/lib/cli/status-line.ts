// A live one-line status on a terminal (rewritten in place with \r), and nothing
// at all off a terminal, so logs and pipes never fill with spinner frames. Jupyter's
// `!` cells get a pseudo-terminal but keep every byte, so they count as off a terminal.

export type StatusLine = { update: (text: string) => void; clear: () => void; active: boolean };

export function createStatusLine(stream: NodeJS.WriteStream = process.stderr): StatusLine {
  const active = Boolean(stream.isTTY) && process.env.TERM !== "dumb" && !process.env.JPY_PARENT_PID;
  let shown = false;
  return {
    active,
    update(text: string) {
      if (!active) return;
      const width = (stream.columns ?? 100) - 1;
      stream.write(`\r\x1b[K${text.length > width ? text.slice(0, width - 1) + "…" : text}`);
      shown = true;
    },
    clear() {
      if (active && shown) stream.write("\r\x1b[K");
      shown = false;
    },
  };
}
