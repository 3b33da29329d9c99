/**
 * The one operational error of this layer. Bad bytes on disk are reported,
 * never used: a replica that loads a corrupt log could vote or acknowledge
 * against what it promised before the crash (Raft §5.1), so the host must stop
 * that replica and repair it from its peers instead.
 */
import { DbError } from '../common/index.js';

export class StorageCorruption extends DbError {
  /**
   * `where` names the damaged key in words (see keys.describeKey); the raw key
   * travels in `details.key` as hex for tooling.
   */
  constructor(where: string, key: Uint8Array | undefined, detail: string) {
    super('STORAGE_CORRUPTION', `corrupt ${where}: ${detail}`, { where, key: key === undefined ? undefined : Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex') });
    this.name = 'StorageCorruption';
  }
}
