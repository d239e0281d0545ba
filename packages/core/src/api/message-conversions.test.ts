// The generated classes carry create, encode and decode; the conversions (verify, fromObject,
// toObject, toJSON) come only with installMessageConversions(), which `@tsmesh/core` calls and its
// data-plane entry does not. This file imports the messages alone (vitest isolates test files).
import { describe, expect, it } from 'vitest';
import { installMessageConversions } from './message-conversions.js';
import { destination, inbound } from './messages.js';

describe('message conversions', () => {
  it('are absent until installed, then convert both ways, and installing twice changes nothing', () => {
    const update = destination.Update.decode(
      destination.Update.encode({
        add: { addrs: [{ addr: { ip: { ipv4: 0xc6120001 }, port: 8080 }, weight: 10_000 }] },
      }).finish(),
    );
    const classes = destination.Update as unknown as Record<string, unknown>;
    expect(classes.toObject).toBeUndefined();
    expect(classes.fromObject).toBeUndefined();
    expect(classes.verify).toBeUndefined();
    expect((update as unknown as Record<string, unknown>).toJSON).toBeUndefined();

    installMessageConversions();
    const toObject = destination.Update.toObject;
    expect(JSON.parse(JSON.stringify(update))).toEqual({
      add: { addrs: [{ addr: { ip: { ipv4: 0xc6120001 }, port: 8080 }, weight: 10_000 }] },
    });
    expect(destination.Update.verify({ add: { addrs: 'nope' } })).toBe('add.addrs: array expected');
    expect(inbound.Server.fromObject({ protocol: { opaque: {} } })).toBeInstanceOf(inbound.Server);
    installMessageConversions();
    expect(destination.Update.toObject).toBe(toObject);
  });
});
