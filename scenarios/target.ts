import type { Expectation } from './schema';

/** What a scenario plays against: the pure machine in this process, or the real stack over HTTP. */
export interface Answer {
  status: number;
  body: any;
}

export interface ScenarioTarget {
  readonly name: string;
  /**
   * Whether the API's answers to events are what the real API answers. False where events go as
   * signals (the time-skipping test server has no Workflow Updates): `answer` is then not checked.
   */
  readonly answersEvents: boolean;
  /** Whether `advance` can move the clock. */
  readonly canAdvance: boolean;

  /** The simulator's control API (`/_sim` + path). */
  sim(method: string, path: string, body?: unknown): Promise<Answer>;

  start(phone: string, body: unknown): Promise<Answer>;
  prerequisites(phone: string, body: unknown): Promise<Answer>;
  signup(phone: string, body: unknown): Promise<Answer>;
  event(phone: string, body: unknown): Promise<Answer>;
  send(phoneNumberId: string, waId: string, body: unknown): Promise<Answer>;

  onboarding(phone: string): Promise<Answer>;
  conversation(phoneNumberId: string, waId: string): Promise<Answer>;
  messages(phoneNumberId: string, waId: string): Promise<Answer>;
  /** Kinds of the backend callbacks received for the number; undefined where none can be seen. */
  callbacks(phone: string): Promise<string[] | undefined>;

  advance(ms: number): Promise<void>;

  /** An expectation held for the number (the machine target marks the effects it checks). */
  expectationHeld?(phone: string, expectation: Expectation): void;
}
