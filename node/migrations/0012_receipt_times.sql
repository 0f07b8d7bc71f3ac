-- When each recipient's receipts arrived (I1: a message's info lists who
-- has it and who read it, and since when). Rows now exist for 1:1
-- conversations too (the friend's account).
ALTER TABLE message_receipts ADD COLUMN delivered_at INTEGER;
ALTER TABLE message_receipts ADD COLUMN seen_at INTEGER;
