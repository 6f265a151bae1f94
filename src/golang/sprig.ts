/**
 * The functions of sprig v3's TxtFuncMap (github.com/Masterminds/sprig) that this library
 * implements, with sprig's argument order (the string operated on comes last, so that it can be
 * piped in), and the names of all the others.
 */
import { quote as quoteString } from './strconv.ts';
import { sprint } from './fmt.ts';
import {
  contains,
  hasPrefix,
  hasSuffix,
  lower,
  replaceAll,
  split,
  title,
  trim,
  trimPrefix,
  trimSpace,
  trimSuffix,
  upper,
} from './strings.ts';
import { argText, type FuncMap } from './text-template/funcs.ts';
import { goBool, goString, NONE, type Value } from './value.ts';

/** sprig's empty(): what `default` treats as unset. */
function isEmpty(value: Value): boolean {
  switch (value.kind) {
    case 'none':
    case 'nil':
      return true;
    case 'string':
      return value.value === '';
    case 'map':
      return value.value.size === 0;
    case 'slice':
      return value.value.length === 0;
    case 'bool':
      return !value.value;
    case 'int':
      return value.value === 0n;
    case 'uint8':
      return value.value === 0;
    case 'struct':
      return false;
  }
}

export const SPRIG_FUNCTIONS = {
  lower: { params: ['string'], call: (a) => goString(lower(argText(a, 0))) },
  upper: { params: ['string'], call: (a) => goString(upper(argText(a, 0))) },
  title: { params: ['string'], call: (a) => goString(title(argText(a, 0))) },
  trim: { params: ['string'], call: (a) => goString(trimSpace(argText(a, 0))) },
  trimAll: { params: ['string', 'string'], call: (a) => goString(trim(argText(a, 1), argText(a, 0))) },
  trimPrefix: { params: ['string', 'string'], call: (a) => goString(trimPrefix(argText(a, 1), argText(a, 0))) },
  trimSuffix: { params: ['string', 'string'], call: (a) => goString(trimSuffix(argText(a, 1), argText(a, 0))) },
  replace: {
    params: ['string', 'string', 'string'],
    call: (a) => goString(replaceAll(argText(a, 2), argText(a, 0), argText(a, 1))),
  },
  default: {
    params: ['any'],
    variadic: 'any',
    call: (a) => {
      const given = a[1];
      const chosen = given === undefined || isEmpty(given) ? (a[0] ?? NONE) : given;
      // default returns interface{}; a nil one becomes no value once the pipeline unwraps it.
      return chosen.kind === 'nil' ? NONE : chosen;
    },
  },
  contains: { params: ['string', 'string'], call: (a) => goBool(contains(argText(a, 1), argText(a, 0))) },
  hasPrefix: { params: ['string', 'string'], call: (a) => goBool(hasPrefix(argText(a, 1), argText(a, 0))) },
  hasSuffix: { params: ['string', 'string'], call: (a) => goBool(hasSuffix(argText(a, 1), argText(a, 0))) },
  splitList: {
    params: ['string', 'string'],
    call: (a) => ({ kind: 'slice', value: split(argText(a, 1), argText(a, 0)) }),
  },
  quote: {
    params: [],
    variadic: 'any',
    call: (a) =>
      goString(
        a
          .filter((v) => v.kind !== 'nil' && v.kind !== 'none')
          .map((v) => quoteString(v.kind === 'string' ? v.value : sprint(v)))
          .join(' '),
      ),
  },
} as const satisfies FuncMap;

/** Every function of sprig's TxtFuncMap, implemented here or not. */
export const SPRIG_FUNCTION_NAMES: ReadonlySet<string> = new Set(
  (
    'abbrev abbrevboth add add1 add1f addf adler32sum ago all any append atoi b32dec b32enc b64dec b64enc base ' +
    'bcrypt biggest buildCustomCert camelcase cat ceil chunk clean coalesce compact concat contains date dateInZone ' +
    'dateModify date_in_zone date_modify decryptAES deepCopy deepEqual default derivePassword dict dig dir div divf ' +
    'duration durationRound empty encryptAES env expandenv ext fail first float64 floor fromJson genCA genCAWithKey ' +
    'genPrivateKey genSelfSignedCert genSelfSignedCertWithKey genSignedCert genSignedCertWithKey get getHostByName ' +
    'has hasKey hasPrefix hasSuffix hello htmlDate htmlDateInZone htpasswd indent initial initials int int64 isAbs ' +
    'join kebabcase keys kindIs kindOf last list lower max maxf merge mergeOverwrite min minf mod mul mulf ' +
    'mustAppend mustChunk mustCompact mustDateModify mustDeepCopy mustFirst mustFromJson mustHas mustInitial ' +
    'mustLast mustMerge mustMergeOverwrite mustPrepend mustPush mustRegexFind mustRegexFindAll mustRegexMatch ' +
    'mustRegexReplaceAll mustRegexReplaceAllLiteral mustRegexSplit mustRest mustReverse mustSlice mustToDate ' +
    'mustToJson mustToPrettyJson mustToRawJson mustUniq mustWithout must_date_modify nindent nospace now omit ' +
    'osBase osClean osDir osExt osIsAbs pick pluck plural prepend push quote randAlpha randAlphaNum randAscii ' +
    'randBytes randInt randNumeric regexFind regexFindAll regexMatch regexQuoteMeta regexReplaceAll ' +
    'regexReplaceAllLiteral regexSplit repeat replace rest reverse round semver semverCompare seq set sha1sum ' +
    'sha256sum shuffle slice snakecase sortAlpha split splitList splitn squote sub subf substr swapcase ternary ' +
    'title toDate toDecimal toJson toPrettyJson toRawJson toString toStrings trim trimAll trimPrefix trimSuffix ' +
    'trimall trunc tuple typeIs typeIsLike typeOf uniq unixEpoch unset until untilStep untitle upper urlJoin ' +
    'urlParse uuidv4 values without wrap wrapWith'
  ).split(' '),
);
