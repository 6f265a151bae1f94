const utf8 = new TextEncoder();

/**
 * The bytes of `text` in UTF-8, as etcd and Docker count them. Labels and keys are nearly always
 * ASCII: those are measured without encoding them (a workload may have thousands).
 */
export function utf8Length(text: string): number {
  for (let index = 0; index < text.length; index += 1)
    if (text.charCodeAt(index) > 0x7f) return utf8.encode(text).length;
  return text.length;
}
