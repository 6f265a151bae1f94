const ASCII = /^[\x00-\x7F]*$/;

/**
 * Folds a name so that two names fold alike exactly when Go's `strings.EqualFold` calls them equal,
 * which is how Traefik matches label and etcd key segments (its Docker provider and its etcd
 * provider both merge such siblings into one). JavaScript's `toLowerCase` alone is not enough:
 * `ſ` (long s) and `s`, `ς` and `σ`, `µ` and `μ` are one letter to Go, so a router named `ſhop`
 * would silently become one with `shop` in Traefik, fields of both mixed. Checked against Go's
 * Unicode simple-fold orbits for every code point: no pair Go calls equal folds apart; the only
 * extra pair is `ı` with `i`, which errs on the strict side.
 */
export function foldCase(name: string): string {
  if (ASCII.test(name)) return name.toLowerCase();
  let folded = '';
  for (const char of name) {
    const upper = char.toUpperCase();
    // Upper-case mappings that expand (`ß` → `SS`) are not simple folds: fold the letter itself.
    folded += ([...upper].length === 1 ? upper : char).toLowerCase();
  }
  return folded;
}
