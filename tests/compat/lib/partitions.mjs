// Where Zeebe's routing puts things, for tests that check partitions.

// The partition of a message's correlation key: Zeebe's SubscriptionUtil.getSubscriptionPartitionId,
// Java's String.hashCode over the UTF-8 bytes (as signed bytes), abs(hash % partitionCount) + 1.
export function messagePartition(correlationKey, partitionCount) {
  let hash = 0;
  for (const byte of Buffer.from(correlationKey, 'utf8')) hash = (Math.imul(31, hash) + ((byte << 24) >> 24)) | 0;
  return Math.abs(hash % partitionCount) + 1;
}

// The partition that created a key: its top bits (key = partitionId << 51 + counter).
export const partitionOf = (key) => Number(BigInt(key) >> 51n);
