/**
 * The simulated world behind Meta's surface: phones running WhatsApp Business, their WABAs,
 * Embedded Signup sessions, QR codes, tokens, and a clock that tests can move.
 */
import { randomBytes } from 'node:crypto';

export const MIN_APP_VERSION = '2.24.17';
export const CODE_TTL_MS = 30_000;
export const SYNC_WINDOW_MS = 24 * 60 * 60_000;
/** How long a QR / verification code lives on Meta's screen; Meta documents none ("a minute or two"). */
export const LINKING_CODE_TTL_MS = 2 * 60_000;

export interface SimNumber {
  phoneNumber: string;
  phoneNumberId: string;
  wabaId: string;
  verifiedName: string;
  appVersion: string;
  /** Connected to the Cloud API with another provider (Meta refuses a second connection). */
  connectedElsewhere: boolean;
  /** The business answers "Don't share chats" when history sync is requested. */
  declinesHistory: boolean;
  /** The history's media follow-up is sent before the chunk holding its placeholder (Meta's order is not fixed). */
  historyMediaFirst: boolean;
  paymentMethod: boolean;
  qualityRating: string;
  nameStatus: string;
  messagingLimitTier: string;
  /** Linked by a QR scan / code: on the Cloud API from `linkedAt + healthLagMs` on. */
  linkedAt?: number;
  partnerRemoved: boolean;
  appSubscribed: boolean;
  linking?: { code: string; method: 'qr' | 'code'; issuedAt: number; expiresAt: number; attempt: number };
  /** An Embedded Signup popup is open: the next scan makes Meta post FINISH. */
  signupSession?: string;
  /** ACCOUNT_OFFBOARDED: the Cloud API companion paused until ACCOUNT_RECONNECTED. */
  offboarded?: boolean;
  /** ACCOUNT_RESTRICTION in force: health says LIMITED. */
  restricted?: boolean;
  /** The WABA lists this number instead of the one that signed up (a wrong WABA chosen). */
  listedAs?: string;
  /** This number's own lag of health data after the link (the world's `healthLagMs` otherwise). */
  healthLagMs?: number;
  syncRequests: Partial<Record<'smb_app_state_sync' | 'history', string>>;
}

/** An error in Meta's envelope (docs/meta.md#error-codes), thrown by any Graph route. */
export class MetaError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
    readonly details?: string,
  ) {
    super(message);
  }
}

export interface SignupCode {
  phoneNumber: string;
  expiresAt: number;
  used: boolean;
}

/** Real time plus what tests advanced; frozen, it moves only when advanced (for exact rate tests). */
export class Clock {
  private offsetMs = 0;
  private frozenAt: number | undefined;
  now(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }
  get frozen(): boolean {
    return this.frozenAt !== undefined;
  }
  advance(ms: number): number {
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.offsetMs += ms;
    return this.now();
  }
  freeze(frozen: boolean): number {
    if (frozen && this.frozenAt === undefined) this.frozenAt = this.now();
    if (!frozen && this.frozenAt !== undefined) {
      this.offsetMs = this.frozenAt - Date.now();
      this.frozenAt = undefined;
    }
    return this.now();
  }
}

/** Deterministic randomness for fault injection (mulberry32), so a seed replays a run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

export class World {
  readonly clock = new Clock();
  readonly numbers = new Map<string, SimNumber>();
  readonly codes = new Map<string, SignupCode>();
  /** Issued access tokens → the WABA they are for. */
  readonly tokens = new Map<string, string>();
  private lastId = 0;

  constructor(public healthLagMs: number) {}

  /**
   * A fresh Meta id (phone number, WABA, media): the wall clock in microseconds-like steps (ms × 1000,
   * 16 digits like Meta's), and never below the last one. A restarted simulator keeps no state, yet
   * its ids start past every id it handed out before, so onboardings that outlived it keep ids of
   * their own (unless it handed out more than 1000 ids per millisecond on average).
   */
  id(): string {
    this.lastId = Math.max(this.lastId + 1, Date.now() * 1000);
    return String(this.lastId);
  }

  secret(prefix: string): string {
    return `${prefix}${randomBytes(16).toString('hex')}`;
  }

  addNumber(init: Partial<SimNumber> & { phoneNumber: string }): SimNumber {
    const existing = this.numbers.get(init.phoneNumber);
    if (existing) return Object.assign(existing, init);
    const n: SimNumber = {
      phoneNumberId: this.id(),
      wabaId: this.id(),
      verifiedName: 'Jasper’s Market',
      appVersion: '2.25.1',
      connectedElsewhere: false,
      declinesHistory: false,
      historyMediaFirst: false,
      paymentMethod: false,
      qualityRating: 'GREEN',
      nameStatus: 'APPROVED',
      messagingLimitTier: 'TIER_250',
      partnerRemoved: false,
      appSubscribed: false,
      syncRequests: {},
      ...init,
    };
    this.numbers.set(n.phoneNumber, n);
    return n;
  }

  byPhoneNumberId(id: string): SimNumber | undefined {
    return [...this.numbers.values()].find((n) => n.phoneNumberId === id);
  }

  byWaba(wabaId: string): SimNumber[] {
    return [...this.numbers.values()].filter((n) => n.wabaId === wabaId);
  }

  /** Health lags the link (docs/meta.md#onboarding-calls-in-order, step 5). */
  onCloudApi(n: SimNumber): boolean {
    return (
      n.linkedAt !== undefined &&
      !n.partnerRemoved &&
      !n.offboarded &&
      this.clock.now() >= n.linkedAt + (n.healthLagMs ?? this.healthLagMs)
    );
  }
}
