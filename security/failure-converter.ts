/**
 * The failure converter of every worker, client and workflow bundle (named by path in
 * ./payload-codec's data converter, as the SDK loads it inside the workflow sandbox too): a
 * failure's message and stack trace travel as an encoded attribute payload, which the payload codec
 * encrypts, so an error that quotes a Meta answer or a message is not readable in history.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
