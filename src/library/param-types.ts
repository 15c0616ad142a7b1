import type { ParamType } from '../wire/protocol.js';

/** One parameter in koffi 3's `fn.info.arguments` (run-time shape). */
interface KoffiParam {
  type: KoffiType;
  direction?: string;
}
interface KoffiType {
  name: string;
  primitive: string;
  ref?: KoffiType;
}

/** koffi's integer primitives (an `S` suffix: stored byte-swapped, same range). */
const INTEGER = /^(U?)Int(8|16|32|64)S?$/;

/**
 * The parameter types of a function koffi declared, as the host checks arguments against
 * them (src/version/argument-check.ts). Variadic arguments are not in `fn.info`.
 */
export function paramTypes(info: { arguments: readonly unknown[] }): ParamType[] {
  return (info.arguments as KoffiParam[]).map(({ type, direction }): ParamType => {
    const { name, primitive } = type;
    const integer = INTEGER.exec(primitive);
    if (integer !== null) return { kind: 'int', name, bits: Number(integer[2]), signed: integer[1] === '' };
    switch (primitive) {
      case 'Float32': case 'Float64': return { kind: 'float', name };
      case 'Bool': return { kind: 'bool', name };
      case 'String': case 'String16': case 'String32': return { kind: 'string', name };
      case 'Callback': return { kind: 'callback', name };
      case 'Record': case 'Union': return { kind: 'record', name };
      case 'Array': return { kind: 'array', name };
      default: {
        const pointee = type.ref?.primitive;
        return {
          kind: 'pointer', name,
          ref: pointee === 'Record' || pointee === 'Union' ? 'record' : 'other',
          // koffi 3 says 'Input/Output' for `_Inout_`
          direction: direction === 'Output' ? 'Output' : direction === 'Input/Output' || direction === 'InputOutput' ? 'InputOutput' : 'Input',
        };
      }
    }
  });
}
