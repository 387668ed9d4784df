/**
 * Subscribe-able event streams and current-value signals, ended on shutdown.
 *
 * @module
 */

/** Stops a subscription. Calling it again does nothing. */
export type Unsubscribe = () => void;

/** A stream of events that ends when the client shuts down. */
export interface EventStream<T> {
  /**
   * Calls `listener` with every later event and `onEnd` once when the stream ends (at once when
   * it has already ended).
   */
  subscribe(listener: (event: T) => void, onEnd?: () => void): Unsubscribe;
  /** Whether the stream has ended. */
  readonly ended: boolean;
}

/** A value that changes over time: read it with `get`, follow it with `subscribe`. */
export interface Signal<T> extends EventStream<T> {
  /** The current value. */
  get(): T;
}

interface Subscriber<T> {
  readonly listener: (event: T) => void;
  readonly onEnd: (() => void) | undefined;
}

/** The writable side of an {@link EventStream}. */
export class StreamSource<T> implements EventStream<T> {
  private subscribers = new Set<Subscriber<T>>();
  private done = false;

  /** A stream whose listener failures are handed to `onListenerError` (they never stop delivery). */
  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  /** See {@link EventStream.ended}. */
  get ended(): boolean {
    return this.done;
  }

  /** See {@link EventStream.subscribe}. */
  subscribe(listener: (event: T) => void, onEnd?: () => void): Unsubscribe {
    if (this.done) {
      onEnd?.();
      return () => {};
    }
    const subscriber: Subscriber<T> = { listener, onEnd };
    this.subscribers.add(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  /** Delivers an event to every current subscriber (none after the end). */
  emit(event: T): void {
    if (this.done) return;
    for (const subscriber of [...this.subscribers]) {
      try {
        subscriber.listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  /** Ends the stream: every subscriber's `onEnd` runs once, later events are dropped. */
  end(): void {
    if (this.done) return;
    this.done = true;
    const subscribers = [...this.subscribers];
    this.subscribers.clear();
    for (const subscriber of subscribers) {
      try {
        subscriber.onEnd?.();
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}

/** The writable side of a {@link Signal}. */
export class SignalSource<T> extends StreamSource<T> implements Signal<T> {
  /** A signal starting at `value`. */
  constructor(
    private value: T,
    onListenerError?: (error: unknown) => void,
  ) {
    super(onListenerError);
  }

  /** See {@link Signal.get}. */
  get(): T {
    return this.value;
  }

  /** Replaces the value and tells the subscribers. */
  set(value: T): void {
    if (this.ended) return;
    this.value = value;
    this.emit(value);
  }
}
