import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { TOPIC_NAME_PATTERN } from '@app/notifications';

export class TopicParams {
  @ApiProperty({ type: String, pattern: TOPIC_NAME_PATTERN.source, description: 'The topic name.', example: 'jobs.new' })
  @Matches(TOPIC_NAME_PATTERN, { message: `topic must match ${TOPIC_NAME_PATTERN.source}` })
  topic!: string;
}
