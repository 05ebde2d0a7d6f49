// SPEC L4 + issue 15: the agent's output as events — every line looked at
// (the marker is a stdout line equal to AGENT_READY), at most 200 output
// events per stream per second (the rest summarised by output_dropped), the
// last 10 lines kept for L6/L8 errors.

import { setBytes, lossyText } from './bytes';
import type { EventSink, Stream } from './events';
import { LineBuffer } from './linebuf';

const MAX_LINE = 4096; // capability line_limit_4096
const WINDOW_MS = 1000;
const EVENTS_PER_WINDOW = 200;
const LAST_LINES = 10;
const MARKER = Buffer.from('AGENT_READY');

interface Window {
  start: number;
  events: number;
  droppedLines: number;
  droppedBytes: number;
  totalDropped: number;
}

export class OutputWatcher {
  readonly lastLines: string[] = [];
  private readonly buffers: Record<Stream, LineBuffer>;
  private readonly win: Record<Stream, Window> = {
    stdout: { start: -Infinity, events: 0, droppedLines: 0, droppedBytes: 0, totalDropped: 0 },
    stderr: { start: -Infinity, events: 0, droppedLines: 0, droppedBytes: 0, totalDropped: 0 },
  };

  constructor(
    private readonly sink: EventSink,
    private readonly onMarker: () => void,
  ) {
    this.buffers = {
      stdout: new LineBuffer(MAX_LINE, (l, t) => this.line('stdout', l, t)),
      stderr: new LineBuffer(MAX_LINE, (l, t) => this.line('stderr', l, t)),
    };
  }

  feed(stream: Stream, chunk: Buffer): void {
    this.buffers[stream].feed(chunk);
  }

  /** EOF on a stream: its partial last line, then its pending drop summary. */
  end(stream: Stream): void {
    this.buffers[stream].flush();
    this.flushDropped(stream);
  }

  flushDropped(stream: Stream): void {
    const w = this.win[stream];
    if (w.droppedLines === 0) return;
    this.sink.emit('output_dropped', {
      stream,
      lines: w.droppedLines,
      bytes: w.droppedBytes,
      total_lines: w.totalDropped,
    });
    w.droppedLines = 0;
    w.droppedBytes = 0;
  }

  private allowed(stream: Stream, len: number): boolean {
    const w = this.win[stream];
    const now = this.sink.clock.nowMs();
    if (now - w.start >= WINDOW_MS) {
      this.flushDropped(stream);
      w.start = now;
      w.events = 0;
    }
    if (w.events < EVENTS_PER_WINDOW) {
      w.events++;
      return true;
    }
    w.droppedLines++;
    w.droppedBytes += len;
    w.totalDropped++;
    return false;
  }

  private line(stream: Stream, line: Buffer, truncated: boolean): void {
    this.lastLines.push(lossyText(line));
    if (this.lastLines.length > LAST_LINES) this.lastLines.shift();
    // L4: equal to the marker, not containing it (NOT_AGENT_READY, AGENT_READYX are not)
    const marker = stream === 'stdout' && !truncated && line.equals(MARKER);
    if (marker || this.allowed(stream, line.length)) {
      const f: Record<string, unknown> = { stream, truncated };
      setBytes(f, 'line', line);
      this.sink.emit('output', f as { stream: Stream; line: string; truncated: boolean });
    }
    if (marker) {
      this.sink.emit('marker', {});
      this.onMarker();
    }
  }
}
