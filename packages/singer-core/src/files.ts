/** Small file helpers shared by config, catalog and state loading. */
import { readFile } from 'node:fs/promises';

/** Reads a UTF-8 file, or returns the short reason it could not be read (never throws). */
export async function readTextFile(path: string): Promise<{ text: string } | { reason: string }> {
  try {
    return { text: await readFile(path, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { reason: 'file not found' };
    if (code === 'EACCES' || code === 'EPERM') return { reason: 'permission denied' };
    if (code === 'EISDIR') return { reason: 'is a directory' };
    return { reason: `cannot read (${code ?? (err as Error).message})` };
  }
}
