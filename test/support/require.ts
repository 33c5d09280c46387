import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Fails loudly when a suite's prerequisite is missing. Suites never skip: the error names the command that installs it.
 */
export function requireCommand(command: string, installHint = 'npm run bed'): string {
  try {
    return execFileSync('bash', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`prerequisite missing: '${command}' not found on PATH; install it with: ${installHint}`);
  }
}

export function requireFile(path: string, installHint = 'npm run bed'): string {
  if (!existsSync(path)) throw new Error(`prerequisite missing: ${path}; build it with: ${installHint}`);
  return path;
}
