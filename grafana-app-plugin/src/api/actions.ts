import type { ProcessAction, WindowAction } from '@cybercorp/protocol';

/**
 * A list, in button order, of every member of a union from the contract; a member the contract
 * adds and the list lacks fails to compile, so the pages always offer every action.
 */
function everyOf<T extends string>() {
  return <const L extends readonly T[]>(
    list: L &
      ([Exclude<T, L[number]>] extends [never] ? unknown : { missing: Exclude<T, L[number]> }),
  ): L => list;
}

export const PROCESS_ACTIONS = everyOf<ProcessAction>()(['terminate', 'kill', 'suspend', 'resume']);
export const WINDOW_ACTIONS = everyOf<WindowAction>()([
  'focus',
  'minimize',
  'maximize',
  'restore',
  'close',
]);
