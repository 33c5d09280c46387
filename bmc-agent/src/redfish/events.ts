// EventService delivery by server-sent events: machine power, boot and media changes become Redfish
// Events (ResourceEvent registry) pushed to every open SSE stream.
import type { Response } from 'express';
import type { Logger } from 'pino';
import type { BootOverride, Machine, MediaState, PowerState } from '../machine/types.ts';
import { MANAGER, SYSTEM } from './context.ts';
import { odataType, resourceEventRegistry } from './schemas/catalog.ts';

export interface EventRecord {
  id: number;
  payload: Record<string, unknown>;
}

const HEARTBEAT_MS = 15_000;
const MAX_STREAMS = 16;

const POWER_MESSAGES: Record<PowerState, string> = {
  On: 'ResourcePoweredOn',
  Off: 'ResourcePoweredOff',
  PoweringOn: 'ResourcePoweringOn',
  PoweringOff: 'ResourcePoweringOff',
};

export class EventHub {
  readonly #streams = new Set<Response>();
  readonly #machine: Machine;
  readonly #log: Logger;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #sinks: Array<(payload: Record<string, unknown>, messageId: string) => void> = [];
  #seq = 0;

  readonly #onPower = (state: PowerState) => this.publish(POWER_MESSAGES[state], [SYSTEM], SYSTEM);
  readonly #onBoot = (_o: BootOverride) => this.publish('ResourceChanged', [], SYSTEM);
  readonly #onMedia = (m: MediaState) => this.publish('ResourceChanged', [], `${MANAGER}/VirtualMedia/${m.id}`);

  constructor(machine: Machine, log: Logger) {
    this.#machine = machine;
    this.#log = log;
    machine.on('power', this.#onPower).on('boot', this.#onBoot).on('media', this.#onMedia);
    this.#heartbeat = setInterval(() => this.#write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  /** Also hands every event to `sink` (push subscriptions). */
  addSink(sink: (payload: Record<string, unknown>, messageId: string) => void): void {
    this.#sinks.push(sink);
  }

  /** Turns the response into an event stream; false when too many streams are open. */
  attach(res: Response): boolean {
    if (this.#streams.size >= MAX_STREAMS) return false;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': qemu-bmc event stream\n\n');
    this.#streams.add(res);
    res.on('close', () => this.#streams.delete(res));
    return true;
  }

  publish(messageKey: string, args: string[], origin: string): EventRecord {
    const def = resourceEventRegistry.Messages[messageKey];
    if (!def) throw new Error(`ResourceEvent registry has no message ${messageKey}`);
    const id = ++this.#seq;
    const messageId = `${resourceEventRegistry.Id}.${messageKey}`;
    const payload = {
      '@odata.type': odataType('Event'),
      Id: String(id),
      Name: 'Event',
      Events: [
        {
          EventId: String(id),
          EventTimestamp: new Date().toISOString(),
          MessageId: messageId,
          Message: def.Message.replace(/%(\d+)/g, (_, n: string) => args[Number(n) - 1] ?? ''),
          MessageArgs: args,
          MessageSeverity: def.MessageSeverity ?? def.Severity ?? 'OK',
          OriginOfCondition: { '@odata.id': origin },
        },
      ],
    };
    this.#write(`id: ${id}\ndata: ${JSON.stringify(payload)}\n\n`);
    for (const sink of this.#sinks) sink(payload, messageId);
    this.#log.debug({ messageKey, origin, streams: this.#streams.size }, 'redfish event');
    return { id, payload };
  }

  close(): void {
    clearInterval(this.#heartbeat);
    this.#machine.off('power', this.#onPower).off('boot', this.#onBoot).off('media', this.#onMedia);
    for (const res of this.#streams) res.end();
    this.#streams.clear();
  }

  #write(chunk: string): void {
    for (const res of this.#streams) res.write(chunk);
  }
}
