import { Matches } from 'class-validator';
import { TOPIC_NAME_PATTERN } from '@app/notifications';

export class TopicParams {
  @Matches(TOPIC_NAME_PATTERN, { message: `topic must match ${TOPIC_NAME_PATTERN.source}` })
  topic!: string;
}
