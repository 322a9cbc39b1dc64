import { type EntityProperty, raw, Type } from '@mikro-orm/core';
import { InvalidInputError } from './errors.ts';

/**
 * pgvector's `vector(n)` column as a `number[]`. Use it with `p.type(VectorType).length(n)`; the length is
 * the vector's dimension, and values of another dimension are refused before they reach the database.
 */
export class VectorType extends Type<number[] | null | undefined, string | null | undefined> {
  override convertToDatabaseValue(value: number[] | null | undefined): string | null | undefined {
    if (value === null || value === undefined) return value;
    const dimensions = this.prop?.length;
    if (dimensions && value.length !== dimensions) {
      throw new InvalidInputError(
        `${this.prop?.name ?? 'vector'}: must have ${dimensions} dimensions, got ${value.length}`,
      );
    }
    if (!value.every(Number.isFinite)) {
      throw new InvalidInputError(`${this.prop?.name ?? 'vector'}: every component must be a finite number`);
    }
    return toVectorLiteral(value);
  }

  override convertToJSValue(value: string | number[] | null | undefined): number[] | null | undefined {
    if (value === null || value === undefined || Array.isArray(value)) return value;
    // pgvector's text form, `[1,2,3]`, is valid JSON.
    return JSON.parse(value) as number[];
  }

  override compareAsType(): string {
    return 'string';
  }

  override getColumnType(prop: EntityProperty): string {
    if (!prop.length)
      throw new Error(`${prop.name}: a vector column needs its dimension, p.type(VectorType).length(n)`);
    return `vector(${prop.length})`;
  }
}

/** pgvector's text literal for a vector, e.g. `[0.1,0.2]`. */
export function toVectorLiteral(value: readonly number[]): string {
  return `[${value.join(',')}]`;
}

/**
 * `column <=> query`: cosine distance (0 = same direction, 2 = opposite), usable in a select or order by.
 * An HNSW index with `vector_cosine_ops` on the column serves `order by` on it.
 */
export function cosineDistance(column: string, query: readonly number[]) {
  return raw(`${column} <=> ?::vector`, [toVectorLiteral(query)]);
}
