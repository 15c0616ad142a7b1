import { createRequire } from 'node:module';
import { Language, Parser, type Node } from 'web-tree-sitter';

export type { Node as SyntaxNode } from 'web-tree-sitter';

/** The two grammars `header` files are read with: prebuilt .wasm files from the grammar
 *  authors' own npm packages, so nothing is compiled at install time. */
export type Grammar = 'c' | 'rust';

const WASM: Record<Grammar, string> = {
  c: 'tree-sitter-c/tree-sitter-c.wasm',
  rust: 'tree-sitter-rust/tree-sitter-rust.wasm',
};

const require = createRequire(import.meta.url);
let runtime: Promise<void> | null = null;
const languages = new Map<Grammar, Promise<Language>>();

/**
 * Parses `text` with a grammar and hands the root to `read`; the tree is freed after
 * (it lives in the WebAssembly heap). The runtime and each grammar load once per process.
 */
export async function readParsed<T>(grammar: Grammar, text: string, read: (root: Node) => T): Promise<T> {
  runtime ??= Parser.init();
  await runtime;
  let language = languages.get(grammar);
  if (language === undefined) {
    language = Language.load(require.resolve(WASM[grammar]));
    languages.set(grammar, language);
  }
  const parser = new Parser();
  try {
    parser.setLanguage(await language);
    const tree = parser.parse(text);
    if (tree === null) throw new Error(`tree-sitter returned no tree for ${grammar}`);
    try {
      return read(tree.rootNode);
    } finally {
      tree.delete();
    }
  } finally {
    parser.delete();
  }
}
