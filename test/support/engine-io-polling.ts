// engine.io's HTTP long-polling, one request at a time: what proves a sticky cookie works (a poll
// that reaches another replica than the one holding the session gets HTTP 400 "Session ID
// unknown"), which a WebSocket-only client never does.
import { fetchWithin } from './within.ts';

export interface PollReply {
  readonly status: number;
  readonly text: string;
  readonly setCookie: string[];
}

/** One engine.io polling request to `<base><path>/?EIO=4&transport=polling<query>`, with or without a cookie. */
export async function enginePoll(
  base: string,
  method: 'GET' | 'POST',
  query: string,
  body: string | undefined,
  cookie: string | undefined,
  path = '/wsk/socket.io',
): Promise<PollReply> {
  const response = await fetchWithin(`${base}${path}/?EIO=4&transport=polling${query}`, {
    method,
    body,
    headers: {
      ...(cookie === undefined ? {} : { cookie }),
      ...(body === undefined ? {} : { 'content-type': 'text/plain;charset=UTF-8' }),
    },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, text: await response.text(), setCookie: response.headers.getSetCookie() };
}

/** A handshake's session id and the `name=value` of its sticky cookie (undefined when none was set). */
export function handshakeSession(reply: PollReply, cookieName: string): { sid: string; cookie: string | undefined } {
  const sid = (JSON.parse(reply.text.slice(1)) as { sid: string }).sid;
  const cookie = reply.setCookie.find((value) => value.startsWith(`${cookieName}=`))?.split(';')[0];
  return { sid, cookie };
}
