/**
 * Go's regexp (RE2 syntax, linear time): re2js is Google's JavaScript port of RE2, so a pattern is
 * parsed with Go's rules (regexp/syntax, Perl flags) and run by an automaton without backtracking,
 * in time proportional to the text's length times the pattern's size, whatever the text.
 */
import { RE2JS } from 're2js';

/** regexp.Compile(pattern).MatchString, compiled once; undefined when the pattern does not compile. */
export function compileMatcher(pattern: string): ((text: string) => boolean) | undefined {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch {
    return undefined;
  }
  return (text) => compiled.matcher(text).find();
}
