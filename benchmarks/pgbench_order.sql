-- The order transaction's own SQL, statement for statement as orders.services.order_place sends
-- it for a one-line order (captured from Django): the order row, its line, then the conditional
-- stock update on the hot product row, one commit. The product read before the transaction and
-- the token lookup are the service's own costs, not part of this ceiling.
-- pgbench -n -f benchmarks/pgbench_order.sql -D customer=<user id> -D product=<product id> ...
BEGIN;
INSERT INTO orders_order
    (customer_id, status, total, created_at, expires_at, paid_at, cancelled_at,
     idempotency_key, request_digest)
VALUES
    (:customer, 'pending', 19.99, now(), now() + interval '15 minutes', NULL, NULL, '', '')
RETURNING id AS order_id \gset
INSERT INTO orders_orderline (order_id, product_id, quantity, unit_price)
VALUES (:order_id, :product, 1, 19.99) RETURNING id;
UPDATE inventory_product SET stock = stock - 1, updated_at = now()
WHERE id = :product AND stock >= 1;
COMMIT;
