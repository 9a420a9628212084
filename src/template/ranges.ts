/** Small helpers for the source ranges the template layer points diagnostics at. */
import { rangeBetween, type Range } from '../diagnostics.js';
import type { Block } from '../hcl/ast.js';

/** A block's header (`variable "x"`), HCL's DefRange: where "this block" diagnostics point. */
export function defRange(block: Block): Range {
  const last = block.labelRanges[block.labelRanges.length - 1];
  return last ? rangeBetween(block.typeRange, last) : block.typeRange;
}

/** `file:line,col` as Packer writes a place inside a message ("previously declared at …"). */
export function placeString(r: Range): string {
  return `${r.filename}:${r.start.line},${r.start.column}`;
}
