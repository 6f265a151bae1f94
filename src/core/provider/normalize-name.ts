// Traefik's provider.Normalize: every rune that is neither a Unicode letter nor a Unicode number
// (Go's unicode.IsLetter / unicode.IsNumber, i.e. categories L and N) separates fields; empty fields
// are dropped and the rest joined with '-'. A lone UTF-16 surrogate is neither, so it separates too,
// as the U+FFFD that Go would have decoded in its place does.
const SEPARATORS = /[^\p{L}\p{N}]+/u;

/** Normalizes a name the way Traefik's providers do: `my.app_1` becomes `my-app-1`. */
export function normalizeName(name: string): string {
  return name
    .split(SEPARATORS)
    .filter((field) => field !== '')
    .join('-');
}
