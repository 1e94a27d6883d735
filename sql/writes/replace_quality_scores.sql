-- replace_quality_scores: the saved quality table becomes exactly the registered frame `incoming`
-- (workload, model, score, source, as_of), in one transaction with the caller's write.
delete from quality_scores;
insert into quality_scores (workload, model, score, source, as_of)
select workload, model, score, source, as_of from incoming;
