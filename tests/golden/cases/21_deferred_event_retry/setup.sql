INSERT INTO actions(key,run_id,as_of,policy,policy_version,rule,step,customer_id,invoice_ids,kind,tone,template,scheduled_at,priority,assignee,status,reason) VALUES
('a0',NULL,'2026-05-18','evr',1,'legacy','x','C1','[]','call','firm','call-firm','x',NULL,NULL,'scheduled','x'),
('a1',NULL,'2026-05-18','evr',1,'on payment.failed','P1','C1','["I1"]','email','neutral','payment-failed','x',NULL,NULL,'deferred','x'),
('b0',NULL,'2026-05-18','evr',1,'legacy','x','C2','[]','call','firm','call-firm','x',NULL,NULL,'scheduled','x'),
('b1',NULL,'2026-05-18','evr',1,'on dispute.opened','D2','C2','["I2"]','task',NULL,NULL,'x',NULL,'billing','scheduled','x'),
('b2',NULL,'2026-05-18','evr',1,'on dispute.opened','D2','C2','["I2"]','email','neutral','dispute-ack','x',NULL,NULL,'deferred','x'),
('c0',NULL,'2026-05-19','evr',1,'legacy','x','C3','[]','call','firm','call-firm','x',NULL,NULL,'scheduled','x'),
('c1',NULL,'2026-05-18','evr',1,'on payment.failed','P3','C3','["I3"]','email','neutral','payment-failed','x',NULL,NULL,'deferred','x');
