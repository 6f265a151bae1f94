import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
  type IDefaultPolicyContext,
  type IPolicy,
} from 'cockatiel';

/**
 * When a member stops being asked. etcd3 picks a member a call, and a member whose breaker is open
 * is passed over for the next. With several members, one failed call opens it: a member that went
 * away (its name unresolved, its address silent) would otherwise get a third of the calls, each
 * waiting out its limit before etcd3 tries another (4 s a call, calls failing after three such
 * members, with four of five members' names gone, measured in a container). It is tried again
 * after 1 s, then 2, 4, at most 5 s: a member back is asked again soon, and with every member
 * failing (etcd down) calls go through again within 5 s of its return. With one member there is
 * none to prefer: it counts three failures, as etcd3's default does.
 */
function breakerSettings(members: number) {
  return members > 1
    ? {
        halfOpenAfter: new ExponentialBackoff({ initialDelay: 1000, maxDelay: 5000 }),
        breaker: new ConsecutiveBreaker(1),
      }
    : { halfOpenAfter: 5000, breaker: new ConsecutiveBreaker(3) };
}

/**
 * A member's policy: cockatiel's circuit breaker, except that while it is half-open (one trial call
 * under way) the other calls are passed over to the next member at once instead of waiting for the
 * trial. cockatiel makes them wait, without a limit; and etcd3, when etcd refuses its token, makes
 * the call again from inside the trial, on a member picked anew: when that is the same member, the
 * call waits for the trial, the trial waits for the call, and neither ever ends. Every later call
 * that picked that member waited with them (seen on three nodes after a partition healed: a
 * daemon whose passes all waited there wrote nothing for minutes, its own node's containers
 * included). A call passed over gets BrokenCircuitError, which etcd3 takes as "try the next member".
 */
export function memberPolicy(
  members: number,
  isFailure: (error: Error) => boolean,
  breaker: CircuitBreakerPolicy = circuitBreaker(handleWhen(isFailure), breakerSettings(members)),
): IPolicy<IDefaultPolicyContext> {
  const policy: Omit<IPolicy<IDefaultPolicyContext>, '_altReturn'> = {
    onSuccess: breaker.onSuccess,
    onFailure: breaker.onFailure,
    execute: (fn, signal) =>
      breaker.state === CircuitState.HalfOpen
        ? Promise.reject(new BrokenCircuitError('etcd member under trial: passed over for another'))
        : breaker.execute(fn, signal),
  };
  // `_altReturn` is a type-only member of IPolicy ("will not actually be defined").
  return policy as IPolicy<IDefaultPolicyContext>;
}
