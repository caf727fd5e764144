import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { writePermissionDenied } from 'y-protocols/auth';
import { messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate } from 'y-protocols/sync';

/** y-websocket's outer message types (y-protocols defines only what follows them). */
export const MESSAGE_SYNC = 0;
/** An awareness update. */
export const MESSAGE_AWARENESS = 1;
/** An auth message (permission denied, with a reason). */
export const MESSAGE_AUTH = 2;
/** A request for every awareness state. */
export const MESSAGE_QUERY_AWARENESS = 3;

/** A decoded client message of the y-websocket protocol. */
export type ClientMessage =
  | { kind: 'sync-step-1'; stateVector: Uint8Array }
  | { kind: 'sync-step-2'; update: Uint8Array }
  | { kind: 'update'; update: Uint8Array }
  | { kind: 'awareness'; update: Uint8Array }
  | { kind: 'query-awareness' };

/** Decodes one client message; throws on anything that is not one. */
export function decodeClientMessage(data: Uint8Array): ClientMessage {
  const decoder = decoding.createDecoder(data);
  const type = decoding.readVarUint(decoder);
  if (type === MESSAGE_QUERY_AWARENESS) return { kind: 'query-awareness' };
  if (type === MESSAGE_AWARENESS) return { kind: 'awareness', update: decoding.readVarUint8Array(decoder) };
  if (type !== MESSAGE_SYNC) throw new Error(`unknown message type ${type}`);
  const syncType = decoding.readVarUint(decoder);
  const payload = decoding.readVarUint8Array(decoder);
  switch (syncType) {
    case messageYjsSyncStep1:
      return { kind: 'sync-step-1', stateVector: payload };
    case messageYjsSyncStep2:
      return { kind: 'sync-step-2', update: payload };
    case messageYjsUpdate:
      return { kind: 'update', update: payload };
    default:
      throw new Error(`unknown sync message type ${syncType}`);
  }
}

function message(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/** A sync message (step 1 with a state vector, step 2 or update with an update). */
export function syncMessage(syncType: number, payload: Uint8Array): Uint8Array {
  return message((encoder) => {
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    encoding.writeVarUint(encoder, syncType);
    encoding.writeVarUint8Array(encoder, payload);
  });
}

/** An awareness message. */
export function awarenessMessage(update: Uint8Array): Uint8Array {
  return message((encoder) => {
    encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
    encoding.writeVarUint8Array(encoder, update);
  });
}

/** A permission-denied auth message (WebsocketProvider logs the reason). */
export function deniedMessage(reason: string): Uint8Array {
  return message((encoder) => {
    encoding.writeVarUint(encoder, MESSAGE_AUTH);
    writePermissionDenied(encoder, reason);
  });
}
