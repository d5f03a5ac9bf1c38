/** Where a message sits in the delivery it came in: the place the raw read API names in its headers. */
import { locateMessage } from '../../api/webhooks/message-location';

const metadata = (id: string) => ({ display_phone_number: '15550783881', phone_number_id: id });

test('a history message is found in its thread, under its own number only', () => {
  const delivery = {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '1',
        changes: [
          {
            field: 'history',
            value: {
              metadata: metadata('100000000000001'),
              history: [{ threads: [{ id: '16505551234', messages: [{ id: 'a' }, { id: 'b' }] }] }],
            },
          },
        ],
      },
    ],
  };
  expect(locateMessage(delivery, '100000000000001', 'b')).toEqual({
    path: 'entry[0].changes[0].value.history[0].threads[0].messages[1]',
    entry: 0,
    change: 0,
  });
  expect(locateMessage(delivery, '100000000000002', 'b')).toBeUndefined();
  expect(locateMessage(delivery, '100000000000001', 'c')).toBeUndefined();
});

test('an echo is found in message_echoes; a bare { field, value } has no entry or change index', () => {
  const bare = { field: 'smb_message_echoes', value: { metadata: metadata('7'), message_echoes: [{ id: 'e' }] } };
  expect(locateMessage(bare, '7', 'e')).toEqual({ path: 'value.message_echoes[0]' });
});

test('a status with the same id is no message', () => {
  const delivery = { entry: [{ changes: [{ value: { metadata: metadata('7'), statuses: [{ id: 's' }] } }] }] };
  expect(locateMessage(delivery, '7', 's')).toBeUndefined();
});
