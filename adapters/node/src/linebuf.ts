// SPEC L4: a bounded line splitter for the agent's stdout/stderr. A line is
// cut at maxLine bytes (delivered once, truncated) and its tail dropped up to
// the next '\n', so memory stays bounded and no tail can pass for a marker.

export type LineCallback = (line: Buffer, truncated: boolean) => void;

export class LineBuffer {
  private buf: Buffer;
  private len = 0;
  private discarding = false;
  constructor(
    private readonly maxLine: number,
    private readonly cb: LineCallback,
  ) {
    // max_line + 1 content bytes: a line of exactly max_line plus '\r' fits
    this.buf = Buffer.alloc(maxLine + 1);
  }

  private deliver(overlong: boolean): void {
    let len = this.len;
    let truncated = false;
    if (!overlong && len > 0 && this.buf[len - 1] === 0x0d) len--;
    if (len > this.maxLine) {
      len = this.maxLine;
      truncated = true;
    }
    this.len = 0;
    this.cb(Buffer.from(this.buf.subarray(0, len)), truncated);
  }

  feed(data: Buffer): void {
    const keep = this.maxLine + 1;
    let off = 0;
    while (off < data.length) {
      const nl = data.indexOf(0x0a, off);
      const end = nl < 0 ? data.length : nl;
      const seg = end - off;
      if (this.discarding) {
        if (nl >= 0) this.discarding = false;
      } else if (this.len + seg > keep) {
        const room = keep - this.len;
        data.copy(this.buf, this.len, off, off + room);
        this.len = keep;
        this.deliver(true);
        this.discarding = nl < 0;
      } else {
        data.copy(this.buf, this.len, off, end);
        this.len += seg;
        if (nl >= 0) this.deliver(false);
      }
      off = nl < 0 ? data.length : nl + 1;
    }
  }

  /** At EOF: the partial last line, if any. */
  flush(): void {
    if (this.len > 0 && !this.discarding) this.deliver(this.len > this.maxLine);
    this.len = 0;
    this.discarding = false;
  }
}
