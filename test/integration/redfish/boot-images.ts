// Tiny bootable images that prove which device a VM booted from: their only code writes a value to QEMU's
// isa-debug-exit port, so QEMU exits with status (value << 1) | 1. Built here, byte by byte, because the test
// bed has no ISO tools; the layout follows ISO 9660 and El Torito as far as SeaBIOS reads them.
const SECTOR = 2048;

/** Real-mode code: mov al, value; out 0xf4, al; hlt; jmp back to hlt. */
function exitCode(value: number): Buffer {
  return Buffer.from([0xb0, value & 0xff, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd]);
}

/** QEMU arguments that add the port the images write to. */
export const DEBUG_EXIT_ARGS = '-device isa-debug-exit,iobase=0xf4,iosize=0x04';

/** QEMU's exit status after an image built with `value` ran. */
export const exitStatusFor = (value: number) => ((value << 1) | 1) & 0xff;

/** An El Torito "no emulation" CD image whose boot code exits QEMU with `value`. */
export function bootableIso(value: number): Buffer {
  const iso = Buffer.alloc(SECTOR * 21);
  const pvd = iso.subarray(16 * SECTOR);
  pvd[0] = 1; // primary volume descriptor
  pvd.write('CD001', 1, 'ascii');
  pvd[6] = 1;
  pvd.write('QBMC'.padEnd(32, ' '), 40, 'ascii'); // volume identifier
  pvd.writeUInt32LE(21, 80); // volume space size, both byte orders
  pvd.writeUInt32BE(21, 84);
  pvd.writeUInt16LE(1, 120);
  pvd.writeUInt16BE(1, 122);
  pvd.writeUInt16LE(1, 124);
  pvd.writeUInt16BE(1, 126);
  pvd.writeUInt16LE(SECTOR, 128);
  pvd.writeUInt16BE(SECTOR, 130);
  const bootRecord = iso.subarray(17 * SECTOR);
  bootRecord[0] = 0; // boot record volume descriptor
  bootRecord.write('CD001', 1, 'ascii');
  bootRecord[6] = 1;
  bootRecord.write('EL TORITO SPECIFICATION', 7, 'ascii');
  bootRecord.writeUInt32LE(19, 0x47); // boot catalog sector
  const terminator = iso.subarray(18 * SECTOR);
  terminator[0] = 255;
  terminator.write('CD001', 1, 'ascii');
  terminator[6] = 1;
  const catalog = iso.subarray(19 * SECTOR);
  catalog[0] = 1; // validation entry, platform 0 (x86)
  catalog.write('QBMC', 4, 'ascii');
  catalog[30] = 0x55;
  catalog[31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + catalog.readUInt16LE(i)) & 0xffff;
  catalog.writeUInt16LE((0x10000 - sum) & 0xffff, 28); // all words sum to zero
  catalog[32] = 0x88; // default entry: bootable, no emulation, load at 0x7c0:0
  catalog.writeUInt16LE(1, 32 + 6); // one 512-byte sector
  catalog.writeUInt32LE(20, 32 + 8); // at sector 20
  exitCode(value).copy(iso, 20 * SECTOR);
  return iso;
}

/** A disk image (for the removable USB disk) whose MBR code exits QEMU with `value`. */
export function bootableDisk(value: number): Buffer {
  const disk = Buffer.alloc(1024 * 1024);
  exitCode(value).copy(disk, 0);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  return disk;
}
