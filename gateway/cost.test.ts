import { describe, expect, test } from '@jest/globals';
import { buildSchema, parse } from 'graphql';
import { costTable, operationCost } from './cost.ts';

const SDL = `
  directive @cost(weight: Int!) on FIELD_DEFINITION | OBJECT | SCALAR | ENUM
  directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
  type Query {
    accounts: [Account!]!
    page(first: Int): Page @listSize(slicingArguments: ["first"], sizedFields: ["items"])
    report: String @cost(weight: 50)
  }
  type Page { items: [User!]! }
  type Mutation { touch: Boolean }
  union Account = User | Admin
  type User { id: ID!  friends: [User!]! @listSize(assumedSize: 3) }
  type Admin { id: ID!  staff: [User!]! }
`;
const schema = buildSchema(SDL);
const table = costTable(SDL);
const cost = (q: string, v: Record<string, unknown> = {}) => operationCost(schema, parse(q), null, v, table, 20);

describe('gateway.cost', () => {
  test('objects 1, scalars 0, @cost weight, unsized lists × GATEWAY_LIST_SIZE, @listSize assumedSize', () => {
    expect(cost('{ report }')).toBe(50);
    expect(cost('{ accounts { ... on User { id } } }')).toBe(20);
    expect(cost('{ accounts { ... on User { friends { id } } } }')).toBe(20 * (1 + 3));
  });

  test('fragments on different types of a union: only the dearest counts', () => {
    expect(cost('{ accounts { ... on User { friends { id } } ... on Admin { staff { id } } } }')).toBe(20 * (1 + 20));
  });

  test('slicing arguments size the sized fields, variables resolved; a mutation adds 10', () => {
    expect(cost('query ($n: Int) { page(first: $n) { items { id } } }', { n: 5 })).toBe(1 + 5);
    expect(cost('mutation { touch }')).toBe(10);
  });
});
