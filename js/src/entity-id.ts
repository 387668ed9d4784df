/**
 * Checks of the entity id a write targets: spelt as an entity id, and the id of the entity whose
 * keys the payload holds (ids are the Poseidon hash of the keys, which `client.entityId`
 * computes; a key value passed as the id names no entity).
 *
 * @module
 */

import { ValidationError } from './errors.js';
import { isEntityId } from './selectors.js';
import type { Check } from './validate.js';

/** The advice every refusal ends with. */
function advice(model: string): string {
  return `compute it from the entity's keys with client.entityId(${JSON.stringify(model)}, { key: value })`;
}

/**
 * `entityId` of a write on `model` (`argument` names it in the refusal), refused unless spelt
 * `0x` + 1 to 64 hex digits.
 */
export function targetEntityId(check: Check, model: string, entityId: unknown, argument = 'entityId'): string {
  if (typeof entityId !== 'string' || !isEntityId(entityId)) {
    throw check.fail(argument, `an entity id (0x followed by 1 to 64 hex digits): ${advice(model)}`, entityId);
  }
  return entityId;
}

/**
 * The refusal of a write whose payload's keys hash to `keyed`, not to its `entityId`
 * (`reason: 'keysMismatch'`, with the id the keys name in `expected`).
 */
export function keysMismatch(
  check: Check,
  model: string,
  entityId: string,
  keyed: string,
  argument = 'entityId',
): ValidationError {
  return new ValidationError(
    `${check.where}: \`${argument}\` ${entityId} is not the id of the ${model} whose keys the payload holds (${keyed}): ${advice(model)}`,
    { where: check.where, argument, reason: 'keysMismatch', model, expected: keyed },
  );
}
