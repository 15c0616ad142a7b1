// The child's end of the IPC channel sends each answer before it runs the next request, also
// when the requests came in one pipe read: Node emits each with process.nextTick, all before
// any microtask, and comlink answers from a microtask (see process-answered-before-crash).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { childIpcEndpoint, expose, ipcEndpoint, type Endpoint, type IpcChannel } from '../../src/runtime/rpc.js';

/** An IPC channel as Node makes one: `read` emits its messages as one pipe read does. */
class FakeChannel extends EventEmitter implements IpcChannel {
  readonly connected = true;
  readonly log: string[] = [];
  #answered = (): void => {};
  send = (message: { id: string }): boolean => {
    this.log.push(`answer ${message.id}`);
    this.#answered();
    return true;
  };

  read(...ids: string[]): void {
    for (const id of ids) process.nextTick(() => this.emit('message', { id, type: 'APPLY', path: ['run'], argumentList: [{ type: 'RAW', value: id }] }));
  }

  /** Settles once `n` answers were sent. */
  answers(n: number): Promise<void> {
    return new Promise((resolve) => {
      this.#answered = () => { if (this.log.filter((l) => l.startsWith('answer')).length === n) resolve(); };
    });
  }
}

function serve(endpoint: (channel: IpcChannel) => Endpoint): FakeChannel {
  const channel = new FakeChannel();
  expose({ run: (id: string) => { channel.log.push(`run ${id}`); return id; } }, endpoint(channel));
  return channel;
}

test('the child end answers each request before it runs the next, in order, across reads', { timeout: 10_000 }, async () => {
  const channel = serve(childIpcEndpoint);
  const done = channel.answers(5);
  channel.read('1', '2', '3');
  queueMicrotask(() => channel.read('4')); // a later read while those of the first wait: behind them
  setImmediate(() => channel.read('5'));
  await done;
  assert.deepEqual(channel.log, ['run 1', 'answer 1', 'run 2', 'answer 2', 'run 3', 'answer 3', 'run 4', 'answer 4', 'run 5', 'answer 5']);
});

test("Node's order, which the host end keeps (it only settles answers): every message of a read before any answer", { timeout: 10_000 }, async () => {
  const channel = serve((c) => ipcEndpoint(c));
  const done = channel.answers(3);
  channel.read('1', '2', '3');
  await done;
  assert.deepEqual(channel.log, ['run 1', 'run 2', 'run 3', 'answer 1', 'answer 2', 'answer 3']);
});
