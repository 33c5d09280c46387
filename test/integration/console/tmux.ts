// Drives an interactive terminal program (ipmitool sol activate) in a detached tmux session on a private tmux server:
// keys go in with send-keys, the screen and its whole scrollback come out with capture-pane, and the pane stays
// after the program exits so its exit status can be read.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireCommand } from '../../support/require.ts';

const run = promisify(execFile);

export class TmuxTerminal {
  private readonly dir: string;
  private readonly socket: string;
  private readonly config: string;
  private readonly session = 'console';
  private stopped = false;

  private constructor(dir: string) {
    this.dir = dir;
    this.socket = join(dir, 'tmux.sock');
    this.config = join(dir, 'tmux.conf');
  }

  /** Starts `argv` (no shell) in a 200x50 terminal. */
  static async start(argv: string[]): Promise<TmuxTerminal> {
    requireCommand('tmux', 'bash test/env/apt.sh');
    const term = new TmuxTerminal(mkdtempSync(join(tmpdir(), 'qemu-bmc-tmux-')));
    writeFileSync(term.config, 'set -g remain-on-exit on\nset -g history-limit 100000\nset -g status off\n');
    const command = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // Through the shell, which prints the program's exit status (128 + n when killed by signal n) on its own line.
    await term.tmux(
      'new-session',
      '-d',
      '-s',
      term.session,
      '-x',
      '200',
      '-y',
      '50',
      `${command}; rc=$?; echo; echo "[exit status $rc]"; exit $rc`,
    );
    return term;
  }

  private async tmux(...args: string[]): Promise<string> {
    const { stdout } = await run('tmux', ['-S', this.socket, '-f', this.config, ...args], { encoding: 'utf8' });
    return stdout;
  }

  /** Types text literally (no key names), without Enter. */
  async type(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', this.session, '-l', text);
  }

  async enter(): Promise<void> {
    await this.tmux('send-keys', '-t', this.session, 'Enter');
  }

  /**
   * Enter and then `text` in one write to the terminal. For ipmitool's escapes (`~.`), which count only right after
   * a newline: typed separately, a terminal's automatic answer can slip in between (busybox's shell asks the
   * terminal for the cursor position with every prompt, and tmux answers on the program's input).
   */
  async enterThen(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', this.session, 'Enter', text);
  }

  /** Everything the program printed so far (scrollback included), wrapped lines joined, trailing blanks dropped. */
  async output(): Promise<string> {
    const text = await this.tmux('capture-pane', '-p', '-J', '-S', '-', '-E', '-', '-t', this.session);
    return text.replace(/\s+$/, '');
  }

  /** Resolves with the output once it matches; while waiting, runs `nudge` (e.g. press Enter) every `everyMs`. */
  async waitFor(
    pattern: RegExp | ((text: string) => boolean),
    timeoutMs: number,
    nudge?: { action: () => Promise<void>; everyMs: number },
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let nextNudge = Date.now();
    for (;;) {
      const text = await this.output();
      if (typeof pattern === 'function' ? pattern(text) : pattern.test(text)) return text;
      if (Date.now() > deadline)
        throw new Error(`terminal did not show ${pattern} within ${timeoutMs} ms; it shows:\n${text.slice(-3000)}`);
      if (nudge && Date.now() >= nextNudge) {
        await nudge.action();
        nextNudge = Date.now() + nudge.everyMs;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * The program's exit status once it has exited, or null while it runs. It comes from the line the wrapping shell
   * prints (tmux 3.3 does not always fill in #{pane_dead_status}, e.g. when the pane's terminal closes before the
   * process is reaped); 128 + n when the program was killed by signal n.
   */
  async exitStatus(): Promise<number | null> {
    const dead = (await this.tmux('display-message', '-p', '-t', this.session, '#{pane_dead}')).trim();
    if (dead !== '1') return null;
    const reported = [...(await this.output()).matchAll(/\[exit status (\d+)\]/g)].at(-1);
    if (!reported) throw new Error(`the program's shell ended without reporting a status:\n${await this.output()}`);
    return Number(reported[1]);
  }

  async waitForExit(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.exitStatus();
      if (status !== null) return status;
      if (Date.now() > deadline)
        throw new Error(
          `program still running after ${timeoutMs} ms; it shows:\n${(await this.output()).slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Kills the tmux server (and the program, if it still runs). Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      execFileSync('tmux', ['-S', this.socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
