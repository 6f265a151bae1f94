/** Names JavaScript objects inherit or treat specially, which users may choose as names all the same. */
export const OBJECT_MEMBER_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
  'isPrototypeOf',
] as const;
