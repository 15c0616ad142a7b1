import { IsoswapError } from '../errors.js';
import { koffiType, namedPrimitive, wordsPrimitive, type CType } from './c-types.js';
import { prototypeOf, type DeclaredFunction } from './declared-function.js';
import { readParsed, type SyntaxNode } from './grammars.js';
import { preprocessHeader, type HeaderText } from './preprocess.js';

/** Where a function declarator leads: the name, its parameters, the pointers of its result. */
interface FunctionShape {
  name: string;
  parameters: SyntaxNode;
  pointers: number;
  /** The function returns a function pointer (`void (*get(void))(int)`). */
  returnsCallback: boolean;
}

/**
 * The functions a C header declares (or a C source defines), read after the C
 * preprocessor. Functions from included files, `static` ones and variables are left out.
 * Rejects with ERR_HEADER naming the line when the header does not parse.
 */
export async function readCHeader(file: string, timeoutMs?: number): Promise<DeclaredFunction[]> {
  return readCText(await preprocessHeader(file, timeoutMs), file);
}

/**
 * The functions declared by C text that is not a file (a prototype string), read as written.
 */
export async function readCDeclarations(text: string, where: string): Promise<DeclaredFunction[]> {
  return readCText({ text, lineOf: (row) => row + 1, raw: false }, where);
}

function readCText(header: HeaderText, file: string): Promise<DeclaredFunction[]> {
  return readParsed('c', header.text, (root) => new CHeaderReader(header, file).read(root));
}

const RAW_HINT = ' (no C compiler was found (cc, or $CC), so the header was read without the preprocessor: macros such as export markers are not expanded)';

class CHeaderReader {
  readonly #typedefs = new Map<string, CType>();
  readonly #functions: DeclaredFunction[] = [];
  readonly #seen = new Set<string>();

  constructor(private readonly header: HeaderText, private readonly file: string) {}

  read(root: SyntaxNode): DeclaredFunction[] {
    this.#visit(root);
    return this.#functions;
  }

  #visit(node: SyntaxNode): void {
    for (const child of node.namedChildren) {
      if (child.type === 'ERROR' || child.isMissing) this.#syntaxError(child);
      else if (child.type === 'type_definition') this.#typedef(child);
      else if (child.type === 'declaration' || child.type === 'function_definition') this.#declaration(child);
      // extern "C" { ... } blocks, and #if branches when read without the preprocessor
      else if (child.type === 'linkage_specification' || child.type === 'declaration_list' || child.type.startsWith('preproc_')) this.#visit(child);
    }
  }

  #syntaxError(node: SyntaxNode): void {
    const line = this.header.lineOf(node.startPosition.row);
    if (line === undefined) return; // a construct of a system header tree-sitter does not know
    const why = this.header.raw ? RAW_HINT : '';
    const text = node.text.split('\n')[0]!.slice(0, 60);
    throw new IsoswapError('ERR_HEADER', `${this.file}:${line}: cannot parse \`${text}\`${why}`, { file: this.file, line });
  }

  #typedef(node: SyntaxNode): void {
    const base = this.#baseType(node);
    for (const declarator of node.childrenForFieldName('declarator')) {
      const shape = this.#declaratorShape(declarator);
      if (shape.name === undefined) continue;
      // a struct, enum or unknown type is named as the header names it (`vec2`)
      const named = base.kind === 'primitive' ? base : { ...base, base: shape.name };
      this.#typedefs.set(shape.name, shape.callback
        ? { kind: 'callback', base: shape.name, constBase: false, pointers: 0 }
        : { ...named, pointers: base.pointers + shape.pointers });
    }
  }

  #declaration(node: SyntaxNode): void {
    if (node.namedChildren.some((c) => c.type === 'storage_class_specifier' && (c.text === 'static' || c.text === 'inline'))) return;
    const line = this.header.lineOf(node.startPosition.row);
    if (line === undefined) return; // declared by an included file
    if (node.hasError) return this.#syntaxError(node);
    for (const declarator of node.childrenForFieldName('declarator')) {
      const fn = this.#functionShape(declarator);
      if (fn === null || this.#seen.has(fn.name)) continue;
      this.#seen.add(fn.name);
      this.#functions.push(this.#declare(node, fn, line));
    }
  }

  #declare(node: SyntaxNode, fn: FunctionShape, line: number): DeclaredFunction {
    const declared = this.#declareTypes(node, fn, line);
    if (!('problem' in declared) || !this.header.raw) return declared;
    return { ...declared, problem: `${declared.problem}${RAW_HINT}` };
  }

  #declareTypes(node: SyntaxNode, fn: FunctionShape, line: number): DeclaredFunction {
    const base = this.#baseType(node);
    const result = fn.returnsCallback
      ? koffiType({ kind: 'callback', base: 'the result', constBase: false, pointers: 0 })
      : koffiType({ ...base, pointers: base.pointers + fn.pointers });
    if (typeof result !== 'string') return { name: fn.name, line, problem: `result: ${result.problem}` };
    const args: string[] = [];
    for (const param of fn.parameters.namedChildren) {
      if (param.type === 'comment') continue;
      if (param.type !== 'parameter_declaration') return { name: fn.name, line, problem: 'variadic functions (...) are not supported' };
      const shape = this.#declaratorShape(param.childForFieldName('declarator'));
      const type = this.#baseType(param);
      const arg = shape.callback
        ? koffiType({ kind: 'callback', base: shape.name ?? 'a parameter', constBase: false, pointers: 0 })
        : koffiType({ ...type, pointers: type.pointers + shape.pointers });
      if (typeof arg !== 'string') return { name: fn.name, line, problem: `parameter ${shape.name ?? args.length + 1}: ${arg.problem}` };
      args.push(arg);
    }
    if (args.length === 1 && args[0] === 'void') args.length = 0; // f(void)
    if (args.includes('void')) return { name: fn.name, line, problem: 'a parameter of type void' };
    return { name: fn.name, line, prototype: prototypeOf(result, fn.name, args) };
  }

  /** The function a declaration's declarator declares, or null for a variable. */
  #functionShape(node: SyntaxNode | null): FunctionShape | null {
    if (node === null) return null;
    switch (node.type) {
      case 'pointer_declarator': {
        const inner = this.#functionShape(node.childForFieldName('declarator'));
        return inner === null ? null : { ...inner, pointers: inner.pointers + 1 };
      }
      case 'parenthesized_declarator':
      case 'attributed_declarator':
        return this.#functionShape(node.namedChildren.find((c) => c.type !== 'attribute_specifier' && c.type !== 'comment') ?? null);
      case 'function_declarator': {
        const declarator = node.childForFieldName('declarator');
        const parameters = node.childForFieldName('parameters');
        if (declarator?.type === 'identifier' && parameters !== null) {
          return { name: declarator.text, parameters, pointers: 0, returnsCallback: false };
        }
        const inner = this.#functionShape(declarator); // a function returning a function pointer
        return inner === null ? null : { ...inner, returnsCallback: true };
      }
      default:
        return null;
    }
  }

  /** The name, pointer count and callback-ness a (possibly abstract) declarator adds. */
  #declaratorShape(node: SyntaxNode | null): { name: string | undefined; pointers: number; callback: boolean } {
    if (node === null) return { name: undefined, pointers: 0, callback: false };
    switch (node.type) {
      case 'identifier':
      case 'type_identifier':
        return { name: node.text, pointers: 0, callback: false };
      case 'pointer_declarator':
      case 'abstract_pointer_declarator':
      case 'array_declarator': // an array parameter is a pointer
      case 'abstract_array_declarator': {
        const inner = this.#declaratorShape(node.childForFieldName('declarator'));
        return { ...inner, pointers: inner.pointers + 1 };
      }
      case 'function_declarator':
      case 'abstract_function_declarator':
        return { ...this.#declaratorShape(node.childForFieldName('declarator')), callback: true };
      default: // parenthesized, attributed
        return this.#declaratorShape(node.namedChildren.find((c) => c.type !== 'attribute_specifier' && c.type !== 'comment') ?? null);
    }
  }

  /** The type a declaration's specifiers name (`const char`, `unsigned long`, `game_t`). */
  #baseType(node: SyntaxNode): CType {
    const constBase = node.namedChildren.some((c) => c.type === 'type_qualifier' && c.text === 'const');
    const type = node.childForFieldName('type');
    const text = type?.text ?? '';
    const primitive = (base: string | undefined): CType => (base === undefined
      ? { kind: 'unsupported', base: text, constBase, pointers: 0 }
      : { kind: 'primitive', base, constBase, pointers: 0 });
    switch (type?.type) {
      case 'primitive_type':
        return primitive(namedPrimitive(text) ?? wordsPrimitive([text]));
      case 'sized_type_specifier':
        return primitive(wordsPrimitive(text.split(/\s+/)));
      case 'type_identifier': {
        const aliased = this.#typedefs.get(text);
        if (aliased !== undefined) return { ...aliased, constBase: aliased.constBase || constBase };
        const known = namedPrimitive(text);
        return known === undefined ? { kind: 'unknown', base: text, constBase, pointers: 0 } : primitive(known);
      }
      case 'struct_specifier':
      case 'union_specifier':
        return { kind: 'record', base: text.split('{')[0]!.trim(), constBase, pointers: 0 };
      case 'enum_specifier':
        return { kind: 'enum', base: text.split('{')[0]!.trim(), constBase, pointers: 0 };
      default:
        return { kind: 'unsupported', base: text, constBase, pointers: 0 };
    }
  }
}
