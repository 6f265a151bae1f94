import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  isBrokenCircuitError,
  type IDefaultPolicyContext,
  type IPolicy,
} from 'cockatiel';
import pTimeout from 'p-timeout';
import { memberPolicy } from '../../src/etcd/member-policy.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const breaker = () => circuitBreaker(handleAll, { halfOpenAfter: 20, breaker: new ConsecutiveBreaker(1) });

/**
 * What etcd3 does when etcd refuses its token during the trial call of a half-open member: the call
 * is made again from inside the trial, here on the same member (one member, or the shuffle's pick).
 */
async function tokenRefusedDuringTrial(policy: IPolicy<IDefaultPolicyContext>): Promise<string> {
  await policy.execute(() => Promise.reject(new Error('member gone'))).catch(() => undefined);
  await sleep(40); // half-open now: the next call is its trial
  return policy.execute(async () => {
    await sleep(1); // the trial's own call, refused
    try {
      return await policy.execute(() => 'answered again on the same member');
    } catch (error) {
      assert.ok(isBrokenCircuitError(error), String(error));
      return 'passed over to another member';
    }
  });
}

test("member policy: a call made again from inside a half-open member's trial is passed over, not left waiting", async () => {
  const outcome = await pTimeout(tokenRefusedDuringTrial(memberPolicy(3, () => true, breaker())), {
    milliseconds: 2000,
    message: 'the call waited for its own trial',
  });
  assert.equal(outcome, 'passed over to another member');
});

test("member policy: cockatiel's own breaker waits for ever there (why the policy exists)", async () => {
  const hung = await pTimeout(tokenRefusedDuringTrial(breaker()), { milliseconds: 300 }).then(
    () => false,
    (error: unknown) => error instanceof Error && error.name === 'TimeoutError',
  );
  assert.equal(hung, true);
});

test('member policy: open, it passes calls over; after the trial succeeds, it lets them through', async () => {
  const policy = memberPolicy(3, () => true, breaker());
  await policy.execute(() => Promise.reject(new Error('member gone'))).catch(() => undefined);
  await assert.rejects(
    policy.execute(() => 'not called'),
    (error: unknown) => error instanceof BrokenCircuitError,
  );
  await sleep(40);
  assert.equal(await policy.execute(() => 'trial'), 'trial');
  assert.equal(await policy.execute(() => 'closed'), 'closed');
});
