import { readFile } from 'node:fs/promises';
import { koffiType, type CType } from './c-types.js';
import { prototypeOf, type DeclaredFunction } from './declared-function.js';
import { readParsed, type SyntaxNode } from './grammars.js';

/** Rust and `core::ffi` primitive names → their koffi spelling. */
const PRIMITIVES: Record<string, string> = {
  i8: 'int8_t', i16: 'int16_t', i32: 'int32_t', i64: 'int64_t',
  u8: 'uint8_t', u16: 'uint16_t', u32: 'uint32_t', u64: 'uint64_t',
  isize: 'intptr_t', usize: 'size_t', f32: 'float', f64: 'double', bool: 'bool',
  c_char: 'char', c_schar: 'int8_t', c_uchar: 'uint8_t', c_short: 'short', c_ushort: 'unsigned short',
  c_int: 'int', c_uint: 'unsigned int', c_long: 'long', c_ulong: 'unsigned long',
  c_longlong: 'long long', c_ulonglong: 'unsigned long long', c_float: 'float', c_double: 'double',
  c_void: 'void', size_t: 'size_t', ssize_t: 'intptr_t',
};

/**
 * The functions a Rust source file exports with the C ABI: every `extern "C" fn` marked
 * `#[no_mangle]` or `#[unsafe(no_mangle)]`, in modules too. `type` aliases in the file are
 * followed; `#[cfg]` is not evaluated.
 */
export async function readRustSource(file: string): Promise<DeclaredFunction[]> {
  const text = await readFile(file, 'utf8');
  return readParsed('rust', text, (root) => {
    const aliases = new Map<string, SyntaxNode>();
    for (const alias of root.descendantsOfType('type_item')) {
      const name = alias.childForFieldName('name');
      const type = alias.childForFieldName('type');
      if (name !== null && type !== null) aliases.set(name.text, type);
    }
    const functions: DeclaredFunction[] = [];
    collect(root, new RustTypes(aliases), functions);
    return functions;
  });
}

function collect(node: SyntaxNode, types: RustTypes, out: DeclaredFunction[]): void {
  let attributes: string[] = [];
  for (const child of node.namedChildren) {
    if (child.type === 'attribute_item') attributes.push(child.text.replace(/\s+/g, ''));
    else if (child.type === 'line_comment' || child.type === 'block_comment') continue;
    else {
      if (child.type === 'function_item' && attributes.some((a) => a === '#[no_mangle]' || a === '#[unsafe(no_mangle)]')) {
        out.push(declare(child, types));
      } else if (child.type === 'mod_item') {
        const body = child.childForFieldName('body');
        if (body !== null) collect(body, types, out);
      }
      attributes = [];
    }
  }
}

function declare(fn: SyntaxNode, types: RustTypes): DeclaredFunction {
  const name = fn.childForFieldName('name')!.text;
  const line = fn.startPosition.row + 1;
  const abi = fn.namedChildren.find((c) => c.type === 'function_modifiers')?.namedChildren.find((c) => c.type === 'extern_modifier');
  const abiName = abi?.namedChildren[0]?.text.slice(1, -1) ?? (abi === undefined ? 'Rust' : 'C');
  if (abiName !== 'C') return { name, line, problem: `exported with the ${abiName} ABI: only extern "C" functions can be called` };
  const result = types.map(fn.childForFieldName('return_type'));
  if (typeof result !== 'string') return { name, line, problem: `result: ${result.problem}` };
  const args: string[] = [];
  for (const param of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (param.type === 'line_comment' || param.type === 'block_comment' || param.type === 'attribute_item') continue;
    if (param.type === 'variadic_parameter') return { name, line, problem: 'variadic functions (...) are not supported' };
    const label = param.childForFieldName('pattern')?.text ?? String(args.length + 1);
    const arg = param.type === 'parameter' ? types.map(param.childForFieldName('type')) : { problem: 'a self parameter' };
    if (typeof arg !== 'string') return { name, line, problem: `parameter ${label}: ${arg.problem}` };
    if (arg === 'void') return { name, line, problem: `parameter ${label}: a parameter of type ()` };
    args.push(arg);
  }
  return { name, line, prototype: prototypeOf(result, name, args) };
}

/** Rust types (following the file's `type` aliases) as koffi types. */
class RustTypes {
  constructor(private readonly aliases: Map<string, SyntaxNode>) {}

  /** A parameter or result type (null: no `->`, so `void`). */
  map(node: SyntaxNode | null): string | { problem: string } {
    return node === null ? 'void' : koffiType(this.#cType(node, new Set()));
  }

  /** A slice, `str` or trait object (through aliases): a pointer to it carries a length or
   *  vtable beside the address, which koffi would pass as a thin `void *`. */
  #unsized(node: SyntaxNode, following: Set<string>): boolean {
    switch (node.type) {
      case 'array_type': return node.childForFieldName('length') === null;
      case 'dynamic_type': return true;
      case 'primitive_type': return node.text === 'str';
      case 'type_identifier': {
        const alias = this.aliases.get(node.text);
        return alias !== undefined && !following.has(node.text) && this.#unsized(alias, new Set([...following, node.text]));
      }
      default: return false;
    }
  }

  #cType(node: SyntaxNode, following: Set<string>): CType {
    const plain = (kind: CType['kind'], base: string): CType => ({ kind, base, constBase: false, pointers: 0 });
    switch (node.type) {
      case 'unit_type':
        return plain('primitive', 'void');
      case 'primitive_type':
      case 'type_identifier':
      case 'scoped_type_identifier': {
        const name = node.type === 'scoped_type_identifier' ? node.childForFieldName('name')!.text : node.text;
        const alias = this.aliases.get(name);
        if (alias !== undefined && !following.has(name)) return this.#cType(alias, new Set([...following, name]));
        const primitive = Object.hasOwn(PRIMITIVES, name) ? PRIMITIVES[name] : undefined;
        if (primitive !== undefined) return plain('primitive', primitive);
        return node.type === 'primitive_type' ? plain('unsupported', `Rust's ${name}`) : plain('record', name);
      }
      case 'pointer_type': {
        const pointee = node.childForFieldName('type')!;
        if (this.#unsized(pointee, following)) {
          return plain('unsupported', `${node.text}: a pointer to ${pointee.text} is a fat pointer (an address and a length or vtable), which a C call cannot pass (take a thin pointer and a length)`);
        }
        const target = this.#cType(pointee, following);
        const mutable = node.namedChildren.some((c) => c.type === 'mutable_specifier');
        // `*mut *const T` is C's `const T **`: the innermost pointer's `const` is T's
        return { ...target, constBase: target.pointers === 0 ? !mutable : target.constBase, pointers: target.pointers + 1 };
      }
      case 'function_type':
        return plain('callback', node.text);
      case 'generic_type':
        return node.descendantsOfType('function_type').length > 0 ? plain('callback', node.text) : plain('unsupported', node.text);
      case 'reference_type':
        return plain('unsupported', `the reference ${node.text} (use a raw pointer)`);
      default: // never, tuples, arrays by value, slices, trait objects
        return plain('unsupported', node.text);
    }
  }
}
