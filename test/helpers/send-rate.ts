/** A send request as the simulator logged it on arrival (GET /_sim/numbers/:phoneNumber/sent, `requests`). */
export interface LoggedSendRequest {
  at: number;
  to?: string;
  status?: number;
  code?: number;
  answeredAt?: number;
}

/**
 * What Meta saw of one number's sending from `since` (the simulator's clock): the most requests
 * that arrived within any one second, accepted or not, and how many were refused with 130429.
 */
export function sendRate(requests: LoggedSendRequest[], since = 0) {
  const times = requests
    .filter((r) => r.at >= since)
    .map((r) => r.at)
    .sort((a, b) => a - b);
  let busiestSecond = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= 1000) i++;
    busiestSecond = Math.max(busiestSecond, j - i + 1);
  }
  const refused130429 = requests.filter((r) => r.at >= since && r.code === 130429).length;
  return { requests: times.length, busiestSecond, refused130429 };
}
