/**
 * Result delivery by post (R-CA-4: results by pickup or by delivery): the carrier is behind this
 * interface. The default `localLogistics` stands in for a carrier's order API (EMS 政务专递 and
 * the like) by issuing a tracking number locally; an operator plugs a real one in through
 * caseServiceFactory({ logistics }).
 */
import { createHash } from 'node:crypto';

export interface Shipment { carrier: string; trackingNumber: string }

export interface Logistics {
  /**
   * Book a shipment of the result for `caseNumber` to `address`; returns the tracking number.
   * Idempotent per case number (the order reference): it is called before the transaction that
   * records it, so a retry after a failed transaction must get the same shipment back.
   */
  ship(order: { caseNumber: string; address: string; recipient: string }): Promise<Shipment>;
}

export const localLogistics: Logistics = {
  async ship({ caseNumber }) {
    // EMS-style: 2 letters, 9 digits, 'CN'; derived from the case number, so booking twice is one shipment.
    const n = createHash('sha256').update(`yiwang.ship.${caseNumber}`).digest().readUInt32BE(0) % 1e9;
    return { carrier: 'local', trackingNumber: `YW${String(n).padStart(9, '0')}CN` };
  },
};
