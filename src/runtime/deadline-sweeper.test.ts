/** DeadlineSweeper in simulated time: expiry order, removal, lateness bound, and no timer left when idle. */
import { describe, expect, it } from 'vitest';
import { DeadlineSweeper } from './deadline-sweeper.js';
import { SimScheduler } from './sim-time.js';

describe('DeadlineSweeper', () => {
  it('fires each deadline once, in order, no earlier than its length and at most a tenth of it late; a removed one never', async () => {
    const time = new SimScheduler();
    const sweeper = new DeadlineSweeper(time, time.scope(), 1_000);
    const fired: [string, number][] = [];
    const at = (name: string) => () => fired.push([name, time.monotonic()]);
    sweeper.add(at('a'));
    await time.runUntil(300);
    const b = sweeper.add(at('b'));
    sweeper.add(at('c'));
    sweeper.remove(b);
    await time.runUntil(5_000);
    expect(fired.map(([n]) => n)).toEqual(['a', 'c']);
    expect(fired[0][1]).toBeGreaterThanOrEqual(1_000);
    expect(fired[0][1]).toBeLessThanOrEqual(1_100);
    expect(fired[1][1]).toBeGreaterThanOrEqual(1_300);
    expect(fired[1][1]).toBeLessThanOrEqual(1_400);
  });

  it('arms its timer only while deadlines are pending, and close drops them unfired', async () => {
    const time = new SimScheduler();
    const sweeper = new DeadlineSweeper(time, time.scope(), 100);
    let fired = 0;
    sweeper.add(() => fired++);
    await time.runUntil(1_000);
    expect(fired).toBe(1);
    const steps = time.steps;
    await time.runUntil(10_000);
    expect(time.steps).toBe(steps);
    sweeper.add(() => fired++);
    sweeper.close();
    await time.runUntil(20_000);
    expect(fired).toBe(1);
    expect(time.steps).toBe(steps);
  });
});
