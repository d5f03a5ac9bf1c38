/**
 * `npm run temporal:setup`: readies a Temporal cluster for coexist, once after the schema and
 * again after any coexist upgrade that adds a search attribute. Creates TEMPORAL_NAMESPACE if it
 * is missing, registers every search attribute the workflows upsert (contracts/search-attributes.ts)
 * that the namespace lacks, and waits until the server lists them all. Safe to run again.
 *
 * The dev server (`npm start`) gets the same attributes from its flags; a cluster (docker-compose.yml's
 * `temporal-setup` job, `npm run test:cluster`) from this, through Temporal's operator service.
 */
import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { ConfigError, loadConfig, temporalAddress } from '../config';
import { onboardingSearchAttributes } from '../contracts/search-attributes';

/** How long closed workflows stay in history and visibility (set when the namespace is created). */
export const NAMESPACE_RETENTION_DAYS = 30;

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const indexedValueType: Record<SearchAttributeType, temporal.api.enums.v1.IndexedValueType> = {
  [SearchAttributeType.TEXT]: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.DOUBLE]: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  [SearchAttributeType.BOOL]: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  [SearchAttributeType.DATETIME]: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;

export interface SetupResult {
  namespaceCreated: boolean;
  registered: string[];
  present: string[];
}

export async function setupTemporal(
  connection: Connection,
  namespace: string,
  { timeoutMs = 60_000 }: { timeoutMs?: number } = {},
): Promise<SetupResult> {
  let namespaceCreated = false;
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if ((err as { code?: number }).code !== NOT_FOUND) throw err;
    await connection.workflowService
      .registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(`${NAMESPACE_RETENTION_DAYS} days`),
      })
      .catch((e: { code?: number }) => {
        if (e.code !== ALREADY_EXISTS) throw e;
      });
    namespaceCreated = true;
  }

  const deadline = Date.now() + timeoutMs;
  const custom = async () => {
    // A namespace just created reaches every service within seconds; until then it is "not found".
    for (;;) {
      try {
        return (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
      } catch (err) {
        if ((err as { code?: number }).code !== NOT_FOUND || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  const existing = await custom();
  for (const key of onboardingSearchAttributes) {
    const registeredAs = existing[key.name];
    if (registeredAs !== undefined && registeredAs !== indexedValueType[key.type])
      throw new Error(`search attribute ${key.name} is registered as ${IndexedValueType[registeredAs]}, not ${key.type}`);
  }
  const missing = onboardingSearchAttributes.filter((key) => existing[key.name] === undefined);
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueType[key.type]])),
    });
  }
  for (;;) {
    const now = await custom();
    if (onboardingSearchAttributes.every((key) => now[key.name] === indexedValueType[key.type])) break;
    if (Date.now() > deadline) throw new Error(`the search attributes are not listed within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    namespaceCreated,
    registered: missing.map((k) => k.name),
    present: onboardingSearchAttributes.filter((k) => !missing.includes(k)).map((k) => k.name),
  };
}

if (require.main === module) {
  (async () => {
    const config = loadConfig();
    const address = temporalAddress(config);
    // The server may still be starting (compose starts this job once it answers health checks).
    const deadline = Date.now() + 120_000;
    let connection: Connection | undefined;
    while (!connection) {
      try {
        connection = await Connection.connect({ address, connectTimeout: '5s' });
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
    const result = await setupTemporal(connection, config.TEMPORAL_NAMESPACE);
    console.log(
      JSON.stringify({
        msg: 'temporal setup done',
        address,
        namespace: config.TEMPORAL_NAMESPACE,
        ...result,
      }),
    );
    await connection.close();
  })().catch((err) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  });
}
