import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../../../bmc-agent/src/ipmi/inband/address.ts';
import {
  encodeCommandFrame,
  encodeResponse,
  parseRequest,
  VmCommand,
  VmFrameDecoder,
} from '../../../../bmc-agent/src/ipmi/inband/codec.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('ipmi-bmc-extern VM protocol codec', () => {
  it('decodes a Get Device ID request as QEMU frames it (msgId, netFn<<2, cmd, checksum, 0xA0)', () => {
    // msgId 0x05, netFn App (0x06 << 2 = 0x18), cmd 0x01; checksum = -(0x05+0x18+0x01) & 0xff = 0xe2
    const [frame] = new VmFrameDecoder().push(bytes(0x05, 0x18, 0x01, 0xe2, 0xa0));
    expect(frame?.kind).toBe('message');
    const req = parseRequest(frame?.kind === 'message' ? frame.bytes : new Uint8Array());
    expect(req).toEqual({ msgId: 0x05, netFn: 0x06, lun: 0, cmd: 0x01, data: new Uint8Array() });
  });

  it('rejects a request whose checksum is wrong', () => {
    expect(parseRequest(bytes(0x05, 0x18, 0x01, 0xe3))).toBeNull();
    expect(parseRequest(bytes(0x05, 0x18))).toBeNull();
  });

  it('unescapes 0xAA-prefixed bytes (bit 4 cleared) across chunk boundaries', () => {
    const decoder = new VmFrameDecoder();
    // data byte 0xA0 travels as AA B0; split the escape over two pushes
    const body = [0x01, 0x18, 0x2e, 0xa0];
    const sum = -body.reduce((a, b) => a + b, 0) & 0xff;
    expect(decoder.push(bytes(0x01, 0x18, 0x2e, 0xaa))).toEqual([]);
    const frames = decoder.push(bytes(0xb0, sum, 0xa0));
    expect(frames).toHaveLength(1);
    const req = parseRequest(frames[0]?.kind === 'message' ? frames[0].bytes : new Uint8Array());
    expect(req?.data).toEqual(bytes(0xa0));
  });

  it('reads QEMU connect-time commands: version and capabilities', () => {
    const frames = new VmFrameDecoder().push(bytes(0xff, 0x01, 0xa1, 0x08, 0x1f, 0xa1));
    expect(frames).toEqual([
      { kind: 'command', bytes: bytes(0xff, 0x01) },
      { kind: 'command', bytes: bytes(0x08, 0x1f) },
    ]);
  });

  it('reports an over-long frame and resynchronises at the next terminator', () => {
    const decoder = new VmFrameDecoder();
    const frames = decoder.push(new Uint8Array(600).fill(0x11));
    expect(frames).toEqual([]);
    expect(decoder.push(bytes(0xa0))).toEqual([{ kind: 'error', reason: 'too-long' }]);
    expect(decoder.push(bytes(0x00, 0x18, 0x01, 0xe7, 0xa0))[0]?.kind).toBe('message');
  });

  it('encodes a response with netFn+1, completion code, escaping and checksum', () => {
    // A data byte 0xAA must be escaped as AA BA.
    const frame = encodeResponse({ msgId: 0x05, netFn: 0x06, lun: 0, cmd: 0x01 }, 0x00, bytes(0xaa));
    const body = [0x05, 0x1c, 0x01, 0x00, 0xaa];
    const sum = -body.reduce((a, b) => a + b, 0) & 0xff;
    expect(Array.from(frame)).toEqual([0x05, 0x1c, 0x01, 0x00, 0xaa, 0xba, sum, 0xa0]);
    // round trip through the decoder
    const [decoded] = new VmFrameDecoder().push(frame);
    expect(decoded).toEqual({ kind: 'message', bytes: Uint8Array.from([...body, sum]) });
  });

  it('encodes hardware-operation commands', () => {
    expect(Array.from(encodeCommandFrame(VmCommand.PowerOff))).toEqual([0x03, 0xa1]);
    expect(Array.from(encodeCommandFrame(VmCommand.Version, 1))).toEqual([0xff, 0x01, 0xa1]);
  });

  it('parses VM_IPMI_ADDR forms and names what is wrong', () => {
    expect(parseListenAddress(':9002')).toEqual({ host: undefined, port: 9002 });
    expect(parseListenAddress('9002')).toEqual({ host: undefined, port: 9002 });
    expect(parseListenAddress('127.0.0.1:9002')).toEqual({ host: '127.0.0.1', port: 9002 });
    expect(parseListenAddress('[::1]:9002')).toEqual({ host: '::1', port: 9002 });
    expect(() => parseListenAddress('host:99999')).toThrow(/port 1\.\.65535/);
    expect(() => parseListenAddress('nope')).toThrow(/\[host\]:port/);
  });
});
