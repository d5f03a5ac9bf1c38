import { Client, Connection } from '@temporalio/client';
import { temporalAddress, type Config } from './config';
import { dataConverter } from './security/payload-codec';

/** A Temporal client for the configured server (or the local dev server), with the payload codec. */
export async function createTemporalClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress(config), connectTimeout: '5s' });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: dataConverter(config) });
}
